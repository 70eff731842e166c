import { importJWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair, signToken } from '../../../signaling-server/src/auth/dev-keys.js'
import { createTokenVerifier } from '../../../signaling-server/src/auth/token-verifier.js'
import type { Session } from '../../src/index.js'
import { createLink } from '../helpers/flaky-link.js'
import {
  nextEvent,
  nodeSession,
  startServer,
  waitFor,
  type TestServer,
} from '../helpers/session.js'

describe('sessions with auth on a real server', () => {
  let server: TestServer
  let keys: Awaited<ReturnType<typeof generateKeyPair>>
  const sessions: Session[] = []
  const token = (room: string, perm: 'read' | 'write' = 'write') =>
    signToken({ privateJwk: keys.privateJwk, room, perm, ttlSeconds: 600 })

  beforeAll(async () => {
    keys = await generateKeyPair('EdDSA')
    server = await startServer({ auth: createTokenVerifier({ jwks: keys.publicJwks }) })
  })
  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.destroy()))
    await server.close()
  })

  it('asks getToken() again on every reconnect and syncs with the new token', async () => {
    const link = createLink()
    let calls = 0
    const session = nodeSession(server.url, 'auth-room', {
      WebSocket: link.WebSocket,
      getToken: () => {
        calls++
        return token('auth-room')
      },
    })
    sessions.push(session)
    await session.whenSynced()
    expect(calls).toBe(1)
    link.cut()
    link.heal()
    await waitFor('synced again', [session], () => session.synced)
    expect(calls).toBeGreaterThanOrEqual(2)
  })

  it('a rejected token ends in an error event with its code and no retry loop', async () => {
    let calls = 0
    const link = createLink()
    const session = nodeSession(server.url, 'auth-room', {
      WebSocket: link.WebSocket,
      getToken: () => {
        calls++
        return 'not.a.jwt'
      },
    })
    sessions.push(session)
    const error = await nextEvent(session, 'error')
    expect(error).toMatchObject({ code: 'unauthorized', transport: 'relay' })
    expect(session.status.relay).toBe('offline')
    // A session that synced afterwards proves time passed on the server and the event loop;
    // with the reconnect delay of these tests (≤ 200 ms) a loop would have retried by now.
    const other = nodeSession(server.url, 'auth-room', { getToken: () => token('auth-room') })
    sessions.push(other)
    await other.whenSynced()
    await other.whenSaved()
    expect(calls).toBe(1)
    expect(link.attempts).toBe(1)
  })

  it('an expired token ends in an "unauthorized" error, not a reconnect loop', async () => {
    const { privateJwk } = keys
    const alg = privateJwk.alg ?? 'EdDSA'
    const now = Math.floor(Date.now() / 1000)
    // Well signed, right audience and room, but expired a minute ago.
    const expired = await new SignJWT({ room: 'auth-room', perm: 'write' })
      .setProtectedHeader({ alg, ...(privateJwk.kid === undefined ? {} : { kid: privateJwk.kid }) })
      .setAudience('coedit')
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(await importJWK(privateJwk, alg))
    let calls = 0
    const link = createLink()
    const session = nodeSession(server.url, 'auth-room', {
      WebSocket: link.WebSocket,
      getToken: () => {
        calls++
        return expired
      },
    })
    sessions.push(session)
    expect(await nextEvent(session, 'error')).toMatchObject({ code: 'unauthorized' })
    const other = nodeSession(server.url, 'auth-room', { getToken: () => token('auth-room') })
    sessions.push(other)
    await other.whenSaved()
    expect(calls).toBe(1)
    expect(link.attempts).toBe(1)
  })

  it('a token for another room is refused as forbidden', async () => {
    const session = nodeSession(server.url, 'auth-room', { getToken: () => token('elsewhere') })
    sessions.push(session)
    expect(await nextEvent(session, 'error')).toMatchObject({ code: 'forbidden' })
  })

  it("a read-only session's edits reach nobody and never report saved", async () => {
    const reader = nodeSession(server.url, 'ro-room', { getToken: () => token('ro-room', 'read') })
    const writer = nodeSession(server.url, 'ro-room', { getToken: () => token('ro-room') })
    sessions.push(reader, writer)
    await Promise.all([reader.whenSynced(), writer.whenSynced()])
    reader.getText('text').insert(0, 'from the reader')
    writer.getText('text').insert(0, 'from the writer')
    await waitFor('reader sees the writer', [reader], () =>
      reader.getText('text').toString().includes('from the writer'),
    )
    await writer.whenSaved()
    expect(writer.getText('text').toString()).toBe('from the writer')
    expect(reader.saved).toBe(false)
  })
})

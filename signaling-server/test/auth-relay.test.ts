/**
 * Auth on both endpoints with real signed tokens: read-only connections sync and see presence but
 * their document updates reach neither other clients nor storage; bad, expired and wrong-room
 * tokens are refused with the documented close codes; tokens work via query or subprotocol.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SignJWT, importJWK, type JWK } from 'jose'
import { encodeAwarenessFrame, encodeAwarenessUpdate } from '@coedit/sdk/protocol'
import { writeFileSync } from 'node:fs'
import { join as joinPath } from 'node:path'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { generateKeyPair, signToken } from '../src/auth/dev-keys.js'
import { createRevocationList } from '../src/auth/revocation-list.js'
import { createTokenVerifier } from '../src/auth/token-verifier.js'
import { silentLogger } from '../src/logger.js'
import { createSqliteStorage } from '../src/storage/sqlite-storage.js'
import { connectRelay, roundTrip, type TestRelayClient } from './helpers/relay-client.js'
import { makeDataDir, metricValue, startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

let privateJwk: JWK
let publicJwks: { keys: JWK[] }
const servers: TestServer[] = []
const clients: TestRelayClient[] = []
const sockets: WebSocket[] = []

beforeAll(async () => {
  ;({ privateJwk, publicJwks } = await generateKeyPair('EdDSA'))
})

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  for (const ws of sockets.splice(0)) ws.terminate()
  for (const server of servers.splice(0)) await server.close()
})

const token = (room: string, perm: 'read' | 'write', ttlSeconds = 300) =>
  signToken({ privateJwk, room, perm, ttlSeconds })

const authServer = async (dataDir = makeDataDir()) => {
  const server = await startServer({ dataDir, auth: createTokenVerifier({ jwks: publicJwks }) })
  servers.push(server)
  return server
}

const join = async (server: TestServer, room: string, jwt?: string) => {
  const client = connectRelay(server.wsUrl, room, {
    coedit: true,
    ...(jwt === undefined ? {} : { token: jwt }),
  })
  clients.push(client)
  await until('synced', () => client.synced, [[client.events, 'synced']])
  return client
}

describe('relay auth', () => {
  it('closes a connection without a token with 4401', async () => {
    const server = await authServer()
    const client = connectRelay(server.wsUrl, 'r')
    clients.push(client)
    expect((await client.closed).code).toBe(4401)
  })

  it('closes a connection with a token for another room with 4403', async () => {
    const server = await authServer()
    const client = connectRelay(server.wsUrl, 'r', { token: await token('other', 'write') })
    clients.push(client)
    expect((await client.closed).code).toBe(4403)
  })

  it('closes a connection with an expired token with 4401', async () => {
    const server = await authServer()
    const now = Math.floor(Date.now() / 1000)
    const old = await new SignJWT({ room: 'r', perm: 'write' })
      .setProtectedHeader({ alg: 'EdDSA', kid: privateJwk.kid ?? '' })
      .setAudience('coedit')
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(await importJWK(privateJwk, 'EdDSA'))
    const client = connectRelay(server.wsUrl, 'r', { token: old })
    clients.push(client)
    expect((await client.closed).code).toBe(4401)
  })

  it('closes a connection with a garbage token with 4401', async () => {
    const server = await authServer()
    const client = connectRelay(server.wsUrl, 'r', { token: 'not-a-jwt' })
    clients.push(client)
    expect((await client.closed).code).toBe(4401)
  })

  it('accepts a token in the Sec-WebSocket-Protocol header and selects the coedit protocol', async () => {
    const server = await authServer()
    const jwt = await token('r', 'write')
    const ws = new WebSocket(`${server.wsUrl}/relay/r`, ['coedit', `coedit-token.${jwt}`])
    sockets.push(ws)
    const firstMessage = new Promise<Buffer>((resolve) => ws.once('message', resolve))
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    expect(ws.protocol).toBe('coedit')
    const first = await firstMessage
    expect(first[0]).toBe(0) // sync step 1: admitted
  })

  it('lets a read-only connection sync and share presence, but drops its document updates', async () => {
    const dataDir = makeDataDir()
    const server = await authServer(dataDir)
    const writer = await join(server, 'r', await token('r', 'write'))
    writer.doc.getText('t').insert(0, 'from writer')
    await until('writer saved', () => writer.isSaved(), [[writer.events, 'saved']])

    const reader = await join(server, 'r', await token('r', 'read'))
    expect(reader.doc.getText('t').toString()).toBe('from writer')

    // Presence from the reader reaches the writer.
    const seen = new Promise<void>((resolve) => {
      writer.events.on('message', (message: { type: string }) => {
        if (message.type === 'awareness') resolve()
      })
    })
    const presence = [{ clientID: 42, clock: 1, state: JSON.stringify({ user: { name: 'R' } }) }]
    reader.ws.send(encodeAwarenessFrame(encodeAwarenessUpdate(presence)))
    await seen

    // The reader's edit is dropped, counted, and never acknowledged.
    const dropsBefore = await metricValue(server.server, 'coedit_drops_total', {
      reason: 'read-only',
    })
    reader.doc.getText('t').insert(0, 'FROM READER ')
    await roundTrip(reader)
    expect(await metricValue(server.server, 'coedit_drops_total', { reason: 'read-only' })).toBe(
      dropsBefore + 1,
    )
    writer.doc.getText('t').insert(writer.doc.getText('t').length, '!')
    await until('writer saved again', () => writer.isSaved(), [[writer.events, 'saved']])
    expect(writer.doc.getText('t').toString()).toBe('from writer!')
    const fresh = await join(server, 'r', await token('r', 'write'))
    expect(fresh.doc.getText('t').toString()).toBe('from writer!')
    expect(reader.isSaved()).toBe(false)

    // …nor storage: reopen the database directly.
    await server.close({ keepData: true })
    const storage = createSqliteStorage({ dir: dataDir })
    const stored = await storage.loadRoom('r')
    const doc = new Y.Doc()
    for (const update of stored.updates) Y.applyUpdate(doc, update)
    await storage.close()
    expect(doc.getText('t').toString()).toBe('from writer!')
  })
})

describe('signaling auth', () => {
  const signal = async (server: TestServer, query = '') => {
    const ws = new WebSocket(`${server.wsUrl}/signal${query}`)
    sockets.push(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    return ws
  }
  const closeCode = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', resolve))
  const nextMessage = (ws: WebSocket) =>
    new Promise<Record<string, unknown>>((resolve) =>
      ws.once('message', (data) => resolve(JSON.parse(data.toString()) as Record<string, unknown>)),
    )

  it('requires a write token for the topic to subscribe', async () => {
    const server = await authServer()
    const none = await signal(server)
    none.send(JSON.stringify({ type: 'subscribe', topics: ['r'] }))
    expect(await closeCode(none)).toBe(4401)

    const reader = await signal(server, `?token=${await token('r', 'read')}`)
    reader.send(JSON.stringify({ type: 'subscribe', topics: ['r'] }))
    expect(await closeCode(reader)).toBe(4403)

    const wrongRoom = await signal(server, `?token=${await token('other', 'write')}`)
    wrongRoom.send(JSON.stringify({ type: 'subscribe', topics: ['r'] }))
    expect(await closeCode(wrongRoom)).toBe(4403)

    const writer = await signal(server, `?token=${await token('r', 'write')}`)
    writer.send(JSON.stringify({ type: 'subscribe', topics: ['r'] }))
    writer.send(
      JSON.stringify({ type: 'publish', topic: 'r', data: { type: 'announce', from: 'w' } }),
    )
    expect(await nextMessage(writer)).toEqual({
      type: 'publish',
      topic: 'r',
      data: { type: 'announce', from: 'w' },
      clients: 1,
    })
  })

  it('refuses a publish to a topic the connection is not subscribed to', async () => {
    const server = await authServer()
    const ws = await signal(server, `?token=${await token('r', 'write')}`)
    ws.send(JSON.stringify({ type: 'publish', topic: 'r', data: {} }))
    expect(await closeCode(ws)).toBe(4403)
  })
})

describe('revocation', () => {
  it("closes a revoked user's relay and signaling sockets and refuses their tokens", async () => {
    const dataDir = makeDataDir()
    const path = joinPath(dataDir, 'revoked.json')
    writeFileSync(path, JSON.stringify({ subjects: [] }))
    const revocations = createRevocationList({ path, logger: silentLogger(), intervalMs: 50 })
    const server = await startServer({
      dataDir,
      auth: createTokenVerifier({ jwks: publicJwks }),
      revocations,
    })
    servers.push(server)
    const as = (sub: string) =>
      signToken({ privateJwk, room: 'r', perm: 'write', ttlSeconds: 300, sub })
    const mallory = await join(server, 'r', await as('mallory'))
    const alice = await join(server, 'r', await as('alice'))
    const signal = new WebSocket(`${server.wsUrl}/signal?token=${await as('mallory')}`)
    sockets.push(signal)
    await new Promise((resolve) => signal.once('open', resolve))
    signal.send(JSON.stringify({ type: 'subscribe', topics: ['r'] }))
    signal.send(JSON.stringify({ type: 'ping' }))
    await new Promise((resolve) => signal.once('message', resolve))

    const signalClosed = new Promise<number>((resolve) => signal.once('close', resolve))
    writeFileSync(path, JSON.stringify({ subjects: ['mallory'] }))
    expect((await mallory.closed).code).toBe(4403)
    expect(await signalClosed).toBe(4403)

    const again = connectRelay(server.wsUrl, 'r', { token: await as('mallory') })
    clients.push(again)
    expect((await again.closed).code).toBe(4403)
    // Alice is untouched and still edits.
    alice.doc.getText('t').insert(0, 'still here')
    await until('alice saved', () => alice.isSaved(), [[alice.events, 'saved']])
    expect(alice.closeCode).toBeUndefined()
  })
})

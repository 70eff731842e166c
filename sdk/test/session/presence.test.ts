import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Session } from '../../src/index.js'
import { nodeSession, startServer, waitFor, type TestServer } from '../helpers/session.js'

describe('presence', () => {
  let server: TestServer
  const sessions: Session[] = []
  const open = (name: string, color = '#ff0000', throttleMs = 100) => {
    const session = nodeSession(server.url, 'presence', {
      user: { name, color },
      presenceThrottleMs: throttleMs,
    })
    sessions.push(session)
    return session
  }
  beforeEach(async () => {
    server = await startServer()
  })
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.destroy()))
    await server.close()
  })

  it('lists who is here with y-quill field names and the path to them', async () => {
    const a = open('Ada', '#112233')
    const b = open('Bob')
    await waitFor('a sees bob', [a], () => a.peers().some((peer) => peer.user?.name === 'Bob'))
    expect(a.peers()).toEqual([
      {
        clientId: b.doc.clientID,
        user: { name: 'Bob', color: '#ff0000' },
        cursor: undefined,
        transport: 'relay',
      },
    ])
    // Stock y-quill reads exactly these fields.
    expect(b.awareness.getStates().get(a.doc.clientID)).toMatchObject({
      user: { name: 'Ada', color: '#112233' },
    })
    b.setCursor({ anchor: { item: null }, head: { item: null } })
    await waitFor('a sees bob’s cursor', [a], () => a.peers()[0]?.cursor !== undefined)
  })

  it('throttles a burst of cursor moves into a few awareness updates', async () => {
    const a = open('Ada', '#112233', 100)
    await a.whenSynced()
    let updates = 0
    a.awareness.on('update', ({ updated }: { updated: number[] }) => {
      if (updated.includes(a.doc.clientID)) updates++
    })
    for (let i = 0; i < 200; i++) a.setCursor({ anchor: i, head: i })
    // The burst: at most one immediate update; the rest wait for the throttle window.
    expect(updates).toBeLessThanOrEqual(1)
    await waitFor('the last position is published', [a], () => {
      const cursor = a.awareness.getLocalState()?.['cursor'] as { head?: number } | undefined
      return cursor?.head === 199
    })
    expect(updates).toBeLessThanOrEqual(2)
  })

  it('drops a malformed remote user (a colour that is not a colour) from the peer list', async () => {
    const a = open('Ada')
    const b = open('Bob')
    await waitFor('a sees bob', [a], () => a.peers().length === 1)
    b.awareness.setLocalStateField('user', { name: 'Eve', color: 'red; background: url(x)' })
    await waitFor('a sees the change', [a], () => a.peers()[0]?.user === undefined)
  })

  it('a destroyed session disappears from the others’ lists at once', async () => {
    const a = open('Ada')
    const b = open('Bob')
    await waitFor('a sees bob', [a], () => a.peers().length === 1)
    await b.destroy()
    await waitFor('bob is gone', [a], () => a.peers().length === 0)
  })

  it('rejects a user without a valid colour (misuse)', () => {
    expect(() => open('Ada', 'blue')).toThrow(/color/)
  })
})

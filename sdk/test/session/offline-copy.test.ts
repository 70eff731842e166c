import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import type { Session } from '../../src/index.js'
import { createLink } from '../helpers/flaky-link.js'
import { nodeSession, startServer, waitFor, type TestServer } from '../helpers/session.js'

describe('the offline copy (IndexedDB)', () => {
  let server: TestServer
  const sessions: Session[] = []
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.destroy()))
    await server.close()
  })

  it('a document reopened offline shows what was typed offline, then merges when online', async () => {
    server = await startServer()
    const room = `offline-${Math.random().toString(36).slice(2)}`
    const online = nodeSession(server.url, room)
    sessions.push(online)
    await online.whenSynced()

    // Typed with the network down from the start: only the IndexedDB copy has it.
    const down = createLink()
    down.cut()
    const first = nodeSession(server.url, room, { offline: true, WebSocket: down.WebSocket })
    await first.whenLoaded()
    first.getText('text').insert(0, 'typed offline')
    expect(first.saved).toBe(false)
    await first.destroy()

    // "Close the tab, reopen offline": the text is there.
    const reopened = nodeSession(server.url, room, { offline: true, WebSocket: down.WebSocket })
    sessions.push(reopened)
    await reopened.whenLoaded()
    expect(reopened.getText('text').toString()).toBe('typed offline')

    online.getText('text').insert(0, 'meanwhile online. ')
    down.heal()
    await waitFor('both sides converge', [online, reopened], () => {
      const a = online.getText('text').toString()
      return a === reopened.getText('text').toString() && a.includes('typed offline')
    })
    // Two inserts at index 0: Yjs orders them by client id, so either order is right.
    expect(['meanwhile online. typed offline', 'typed offlinemeanwhile online. ']).toContain(
      online.getText('text').toString(),
    )
    await reopened.whenSaved()
  })
})

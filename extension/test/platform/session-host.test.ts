/**
 * The session host against a real Coedit server (port 0): tabs are replica documents behind
 * in-memory ports that deliver JSON asynchronously like runtime ports; the room's other user is
 * an SDK session in Node. Sessions are Node sessions (relay only, `ws`), injected through
 * `openSession`.
 */
import * as decoding from 'lib0/decoding'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Session } from '@coedit/sdk'
import { createSessionHost, type HostShare, type SessionHost } from '../../src/host/session-host.js'
import type { HostPort } from '../../src/host/host-port.js'
import {
  fromBase64,
  toBase64,
  type ContentToHost,
  type HostToContent,
} from '../../src/shared/messages.js'
import type { StatusView } from '../../src/shared/requests.js'
import {
  nodeSession,
  startServer,
  waitFor,
  type TestServer,
} from '../../../sdk/test/helpers/session.js'
import { createPortPair, type FakePort } from './helpers/fake-port.js'
import { createTestReplica, type TestReplica } from './helpers/replica.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

let roomCounter = 0
const KEY = 'k'.repeat(43)
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Harness {
  readonly host: SessionHost
  readonly room: string
  /** Sessions the host opened, in order. */
  readonly opened: Session[]
  /** Sessions the host destroyed. */
  readonly destroyed: Session[]
  readonly drops: { tabId: number; reason: string }[]
  readonly statuses: { tabId: number; status: StatusView }[]
  share(tabId: number, extra?: Partial<HostShare>): HostShare
  /** A tab: attaches it (unless `attach: false`) and connects a replica over a port pair. */
  tab(tabId: number, options?: { attach?: boolean }): TestTab
  /** Another user in the room: an SDK session of its own. */
  peer(name: string): Session
}

interface TestTab {
  readonly replica: TestReplica
  readonly port: FakePort<ContentToHost>
}

const harness = (): Harness => {
  const room = `platform-host-room-${++roomCounter}-${Date.now()}`
  const opened: Session[] = []
  const destroyed: Session[] = []
  const drops: { tabId: number; reason: string }[] = []
  const statuses: { tabId: number; status: StatusView }[] = []
  const host = createSessionHost({
    openSession: (share) => {
      const session = nodeSession(share.server, share.room, {
        ...(share.user === undefined ? {} : { user: share.user }),
      })
      const destroy = session.destroy.bind(session)
      // Recorded, so tests can tell the host released the session.
      Object.assign(session, {
        destroy: async () => {
          destroyed.push(session)
          await destroy()
        },
      })
      opened.push(session)
      return session
    },
    onDrop: (event) => drops.push(event),
    onStatus: (event) => statuses.push(event),
  })
  cleanups.push(() => host.destroy())
  const share = (tabId: number, extra: Partial<HostShare> = {}): HostShare => ({
    tabId,
    room,
    key: KEY,
    server: server.url,
    user: { name: 'Host user', color: '#336699' },
    ...extra,
  })
  return {
    host,
    room,
    opened,
    destroyed,
    drops,
    statuses,
    share,
    tab(tabId, options = {}) {
      if (options.attach !== false) host.attach(share(tabId))
      const [hostSide, tabSide] = createPortPair<HostToContent, ContentToHost>()
      host.connect(tabId, hostSide as HostPort)
      const replica = createTestReplica(tabSide)
      cleanups.push(() => replica.destroy())
      return { replica, port: tabSide }
    },
    peer(name) {
      const session = nodeSession(server.url, room, { user: { name, color: '#aa5500' } })
      cleanups.push(() => session.destroy())
      return session
    },
  }
}

/** The session the host opened first (fails the test if there is none). */
const hostSession = (h: Harness): Session => {
  const session = h.opened[0]
  if (session === undefined) throw new Error('the host opened no session')
  return session
}

const synced = (tab: TestTab) =>
  tab.replica.until('the sync answer', () => tab.replica.received.some((m) => m.type === 'sync'))

/** Client ids in an awareness update (y-protocols' encoding: count, then id, clock, state). */
const awarenessClients = (update: string): number[] => {
  const decoder = decoding.createDecoder(fromBase64(update))
  const count = decoding.readVarUint(decoder)
  const clients: number[] = []
  for (let i = 0; i < count; i++) {
    clients.push(decoding.readVarUint(decoder))
    decoding.readVarUint(decoder)
    decoding.readVarString(decoder)
  }
  return clients
}

describe('session host', () => {
  it('keeps a tab replica and a remote peer converged in both directions', async () => {
    const h = harness()
    const bea = h.peer('Bea')
    bea.getText('field:a').insert(0, 'before ')
    await bea.whenSaved()

    const tab = h.tab(1)
    await tab.replica.until('the peer’s earlier text', () =>
      tab.replica.text().toString().includes('before'),
    )
    tab.replica.text().insert(tab.replica.text().length, 'from tab')
    await waitFor('the peer sees the tab’s edit', [bea], () =>
      bea.getText('field:a').toString().includes('from tab'),
    )
    bea.getText('field:a').insert(0, 'from peer, ')
    await tab.replica.until('the tab sees the peer’s edit', () =>
      tab.replica.text().toString().startsWith('from peer, '),
    )
    expect(tab.replica.text().toString()).toBe(bea.getText('field:a').toString())
  })

  it('sends the tab what it lacks and takes what the tab had offline on hello', async () => {
    const h = harness()
    const bea = h.peer('Bea')
    bea.getText('field:b').insert(0, 'room text')
    await bea.whenSaved()
    // The host's session holds the room's text before the tab connects.
    h.host.attach(h.share(7))
    await waitFor(
      'the host session has the room',
      h.opened,
      () => hostSession(h).getText('field:b').toString() === 'room text',
    )
    const tab = h.tab(7, { attach: false })
    await synced(tab)
    expect(tab.replica.doc.getText('field:b').toString()).toBe('room text')
  })

  it('never posts an update back to the port it came from, but to the room’s other tabs', async () => {
    const h = harness()
    const bea = h.peer('Bea')
    const first = h.tab(1)
    const second = h.tab(2)
    await Promise.all([synced(first), synced(second)])
    expect(h.opened).toHaveLength(1)

    const before = first.replica.received.length
    first.replica.text().insert(0, 'only once')
    await second.replica.until(
      'the other tab gets the edit',
      () => second.replica.text().toString() === 'only once',
    )
    await waitFor(
      'the peer gets the edit',
      [bea],
      () => bea.getText('field:a').toString() === 'only once',
    )
    const echoed = first.replica.received.slice(before).filter((m) => m.type === 'update')
    expect(echoed).toEqual([])
  })

  it('forwards remote awareness but never the host’s own client, and publishes the tab’s cursor', async () => {
    const h = harness()
    const bea = h.peer('Bea')
    const tab = h.tab(1)
    await synced(tab)
    const hostClient = hostSession(h).awareness.clientID
    const cursor = {
      anchor: { type: null, tname: 'field:a', item: null, assoc: 0 },
      head: { type: null, tname: 'field:a', item: null, assoc: 0 },
    }
    tab.replica.setCursor(cursor)
    await waitFor('the peer sees the host user’s cursor', [bea], () =>
      bea.peers().some((peer) => peer.clientId === hostClient && peer.cursor !== undefined),
    )
    bea.setCursor(cursor)
    await tab.replica.until('the peer’s awareness reaches the tab', () =>
      tab.replica.received.some(
        (m) =>
          m.type === 'awareness' && awarenessClients(m.update).includes(bea.awareness.clientID),
      ),
    )
    const clients = tab.replica.received
      .filter((m) => m.type === 'awareness')
      .flatMap((m) => (m.type === 'awareness' ? awarenessClients(m.update) : []))
    expect(clients).toContain(bea.awareness.clientID)
    expect(clients).not.toContain(hostClient)
  })

  it('posts status with peers as name, colour and path', async () => {
    const h = harness()
    h.peer('Bea')
    const tab = h.tab(1)
    await tab.replica.until('a status naming the peer', () =>
      tab.replica.received.some(
        (m) =>
          m.type === 'status' &&
          m.relay === 'connected' &&
          m.peers.some((p) => p.name === 'Bea' && p.color === '#aa5500' && p.transport === 'relay'),
      ),
    )
    expect(h.statuses.some(({ tabId, status }) => tabId === 1 && status.peers.length === 1)).toBe(
      true,
    )
    expect(h.host.status(1)?.relay).toBe('connected')
  })

  it('drops and reports malformed messages and keeps serving the port', async () => {
    const h = harness()
    const bea = h.peer('Bea')
    const tab = h.tab(1)
    await synced(tab)
    tab.port.postRaw('not an object')
    tab.port.postRaw({ type: 'update', update: 'not base64!' })
    tab.port.postRaw({ type: 'evil', update: '' })
    tab.port.postRaw({ type: 'update', update: toBase64(new Uint8Array([1, 1, 5, 0, 9])) })
    tab.port.postRaw({ type: 'hello', stateVector: toBase64(new Uint8Array([255, 255])) })
    tab.port.postRaw({ type: 'cursor', cursor: { anchor: 1, head: 2 } })
    tab.replica.text().insert(0, 'still works')
    await waitFor(
      'the valid edit after the bad ones arrives',
      [bea],
      () => bea.getText('field:a').toString() === 'still works',
    )
    expect(h.drops.map((drop) => drop.reason)).toEqual([
      'malformed',
      'malformed',
      'malformed',
      'bad-update',
      'bad-state-vector',
      'malformed',
    ])
    expect(h.host.dropped).toBe(6)
    expect(tab.replica.disconnected).toBe(false)
  })

  it('closes the port of a tab that shares nothing', async () => {
    const h = harness()
    const tab = h.tab(9, { attach: false })
    await tab.replica.until('the port closes', () => tab.replica.disconnected)
    expect(h.opened).toHaveLength(0)
  })

  it('ends a stopped tab’s ports and releases the session with the room’s last tab', async () => {
    const h = harness()
    const first = h.tab(1)
    const second = h.tab(2)
    await Promise.all([synced(first), synced(second)])

    await h.host.stop(1, 'Sharing stopped')
    await first.replica.until(
      'the stopped tab is told and closed',
      () => first.replica.disconnected,
    )
    expect(first.replica.received.at(-1)).toEqual({ type: 'ended', reason: 'Sharing stopped' })
    expect(h.destroyed).toHaveLength(0)
    expect(second.replica.disconnected).toBe(false)

    await h.host.stop(2, 'Sharing stopped')
    await second.replica.until('the last tab is closed', () => second.replica.disconnected)
    expect(h.destroyed).toEqual(h.opened)
    expect(h.host.tabs()).toEqual([])
  })

  it('releases the cursor a closed tab had set', async () => {
    const h = harness()
    const bea = h.peer('Bea')
    const tab = h.tab(1)
    await synced(tab)
    const hostClient = hostSession(h).awareness.clientID
    const position = { type: null, tname: 'field:a', item: null, assoc: 0 }
    tab.replica.setCursor({ anchor: position, head: position })
    await waitFor('the cursor shows', [bea], () =>
      bea.peers().some((peer) => peer.clientId === hostClient && peer.cursor !== undefined),
    )
    tab.port.disconnect()
    await waitFor('the cursor goes', [bea], () =>
      bea.peers().some((peer) => peer.clientId === hostClient && peer.cursor === undefined),
    )
  })

  it('reuses the room’s session for a second tab and refuses the room with another key', () => {
    const h = harness()
    h.host.attach(h.share(1))
    h.host.attach(h.share(2))
    h.host.attach(h.share(2))
    expect(h.opened).toHaveLength(1)
    expect(() => h.host.attach(h.share(3, { key: 'x'.repeat(43) }))).toThrow(
      /another server or key/,
    )
    expect(h.host.tabs()).toEqual([1, 2])
  })

  it('destroy() ends every tab and releases every session', async () => {
    const h = harness()
    const tab = h.tab(1)
    await synced(tab)
    h.host.attach({ ...h.share(5), room: `${h.room}-other` })
    await h.host.destroy()
    expect(h.destroyed).toHaveLength(2)
    await tab.replica.until('the tab is told', () => tab.replica.disconnected)
    expect(tab.replica.received.at(-1)?.type).toBe('ended')
    expect(() => h.host.attach(h.share(6))).toThrow(/destroyed/)
  })
})

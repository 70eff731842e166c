/**
 * The content side of the `coedit-doc` port protocol against a fake host (a second Y.Doc applying
 * the host side): convergence both ways, echo suppression, presence, status, malformed input, and
 * reconnecting to the same host — or refusing another one's document.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { createReplica, type ReplicaOptions } from '../../src/content/replica.js'
import { toBase64 } from '../../src/shared/messages.js'
import { createFakeHost, type FakeHost } from './helpers/fake-host.js'
import { createPortNetwork } from './helpers/fake-port.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

const setup = (options: ReplicaOptions = {}, hostDoc?: Y.Doc) => {
  const network = createPortNetwork()
  const [content, hostEnd] = network.pair()
  const host = createFakeHost(hostEnd, hostDoc)
  const replica = createReplica(options)
  cleanups.push(() => {
    replica.destroy()
    host.destroy()
  })
  return { network, content, host, replica }
}

const text = (doc: Y.Doc) => doc.getText('field:a').toString()

/** Posts `data` to the content end as if the host had sent it. */
const inject = (host: FakeHost, data: unknown) => host.port.postMessage(data)

describe('replica', () => {
  it('says hello, takes the host state, and answers with what the host lacks', async () => {
    const hostDoc = new Y.Doc()
    hostDoc.getText('field:a').insert(0, 'shared')
    const { network, content, host, replica } = setup({}, hostDoc)
    replica.connect(content)
    // Typed before the host answered: carried by the sync answer, not lost, not duplicated.
    replica.doc.getText('field:a').insert(0, '>')
    expect(replica.synced).toBe(false)
    await network.idle()
    expect(replica.synced).toBe(true)
    expect(host.received).toEqual(['hello', 'sync'])
    expect(text(replica.doc)).toBe(text(host.doc))
    expect(text(host.doc)).toMatch(/^(>shared|shared>)$/)
  })

  it('converges both ways after the exchange, without echoing what the port brought', async () => {
    const { network, content, host, replica } = setup()
    const synced = vi.fn()
    replica.on('synced', synced)
    replica.connect(content)
    await network.idle()
    expect(synced).toHaveBeenCalledTimes(1)

    host.doc.getText('field:a').insert(0, 'from host')
    await network.idle()
    expect(text(replica.doc)).toBe('from host')
    // Applying the host's update posted nothing back (echo suppression).
    expect(host.received).toEqual(['hello', 'sync'])

    replica.doc.getText('field:a').insert(9, ', and back')
    await network.idle()
    expect(text(host.doc)).toBe('from host, and back')
    expect(host.received).toEqual(['hello', 'sync', 'update'])
    // …and the host's own posting rule keeps it from coming back either.
    expect(content.posted.filter((m) => (m as { type: string }).type === 'update')).toHaveLength(1)
  })

  it('shows remote presence from the port and publishes only its own cursor field', async () => {
    const { network, content, host, replica } = setup()
    replica.connect(content)
    await network.idle()

    const remote = new Awareness(new Y.Doc())
    cleanups.push(() => remote.destroy())
    remote.setLocalState({ user: { name: 'Ada', color: '#ff0000' } })
    host.sendAwareness(remote)
    await network.idle()
    expect(replica.awareness.getStates().get(remote.clientID)).toEqual({
      user: { name: 'Ada', color: '#ff0000' },
    })

    const cursor = { anchor: { type: null, tname: 'field:a', item: null, assoc: 0 }, head: {} }
    replica.awareness.setLocalStateField('cursor', cursor)
    await network.idle()
    expect(host.cursor).toEqual(cursor)
    // Unrelated local changes post nothing; withdrawing the cursor posts null once.
    replica.awareness.setLocalStateField('other', 1)
    replica.awareness.setLocalStateField('cursor', null)
    replica.awareness.setLocalStateField('cursor', null)
    await network.idle()
    expect(host.cursor).toBeNull()
    expect(host.received.filter((type) => type === 'cursor')).toHaveLength(2)
  })

  it('reports status and the end of the share', async () => {
    const { network, content, host, replica } = setup()
    const statuses = vi.fn()
    const ended = vi.fn()
    replica.on('status', statuses)
    replica.on('ended', ended)
    replica.connect(content)
    host.status({ saved: false, peers: [{ name: 'Ada', color: '#f00', transport: 'webrtc' }] })
    host.end('the sharer stopped')
    await network.idle()
    expect(statuses).toHaveBeenCalledWith({
      relay: 'connected',
      webrtc: 'connected',
      saved: false,
      synced: true,
      peers: [{ name: 'Ada', color: '#f00', transport: 'webrtc' }],
    })
    expect(replica.status?.saved).toBe(false)
    expect(ended).toHaveBeenCalledWith({ reason: 'the sharer stopped' })
  })

  it('drops malformed messages and undecodable updates, warning once per kind, never throwing', async () => {
    const warn = vi.fn()
    const { network, content, host, replica } = setup({ warn })
    replica.connect(content)
    await network.idle()
    inject(host, { type: 'update', update: 'not base64!' })
    inject(host, { type: 'update', update: 42 })
    inject(host, { type: 'status', relay: 'up' })
    inject(host, 'hello')
    inject(host, { type: 'update', update: toBase64(new Uint8Array([255, 255, 255, 9])) })
    inject(host, { type: 'update', update: toBase64(new Uint8Array([255, 255, 255, 7])) })
    inject(host, { type: 'awareness', update: toBase64(new Uint8Array([200])) })
    await network.idle()
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(/malformed "update"/),
      expect.stringMatching(/malformed "status"/),
      expect.stringMatching(/malformed "string"/),
      expect.stringMatching(/"update" .*could not apply/),
      expect.stringMatching(/awareness update/),
    ])
    // Still in business.
    host.doc.getText('field:a').insert(0, 'ok')
    await network.idle()
    expect(text(replica.doc)).toBe('ok')
  })

  it('reconnects to the same host on a new port and catches up both ways', async () => {
    const { network, content, host, replica } = setup()
    const disconnected = vi.fn()
    replica.on('disconnect', disconnected)
    replica.connect(content)
    host.doc.getText('field:a').insert(0, 'one')
    await network.idle()
    expect(text(replica.doc)).toBe('one')

    host.port.disconnect() // the service worker went away
    await network.idle()
    expect(disconnected).toHaveBeenCalledWith({ error: undefined })
    expect(replica.synced).toBe(false)
    replica.doc.getText('field:a').insert(3, ' two') // typed while disconnected
    host.destroy()

    const [content2, hostEnd2] = network.pair()
    const host2 = createFakeHost(hostEnd2, host.doc)
    cleanups.push(() => host2.destroy())
    host.doc.getText('field:a').insert(0, 'zero ') // arrived at the host meanwhile
    replica.connect(content2)
    await network.idle()
    expect(text(replica.doc)).toBe('zero one two')
    expect(text(host.doc)).toBe('zero one two')
  })

  it("refuses a later host that does not hold this replica's document", async () => {
    const warn = vi.fn()
    const { network, content, host, replica } = setup({ warn })
    const mismatch = vi.fn()
    replica.on('mismatch', mismatch)
    replica.connect(content)
    host.doc.getText('field:a').insert(0, 'room A')
    await network.idle()
    host.port.disconnect()
    await network.idle()

    const [content2, hostEnd2] = network.pair()
    const other = createFakeHost(hostEnd2) // room B
    cleanups.push(() => other.destroy())
    other.doc.getText('field:a').insert(0, 'room B')
    replica.connect(content2)
    await network.idle()
    expect(mismatch).toHaveBeenCalledTimes(1)
    expect(text(other.doc)).toBe('room B')
    expect(text(replica.doc)).toBe('room A')
    expect(other.received).toEqual(['hello'])
    expect(content2.disconnected).toBe(true)
  })

  it('throws on a second connect while a port is open, and cleans up on destroy', async () => {
    const { network, content, replica } = setup()
    replica.connect(content)
    expect(() => replica.connect(content)).toThrow(/a port is connected/)
    await network.idle()
    replica.destroy()
    expect(content.disconnected).toBe(true)
    expect(content.onMessage.listeners.size).toBe(0)
    expect(content.onDisconnect.listeners.size).toBe(0)
    expect(() => replica.connect(content)).toThrow(/destroyed/)
  })

  it('forgets remote presence when the port goes away', async () => {
    const { network, content, host, replica } = setup()
    replica.connect(content)
    const remote = new Awareness(new Y.Doc())
    cleanups.push(() => remote.destroy())
    remote.setLocalState({ user: { name: 'Ada', color: '#ff0000' } })
    host.sendAwareness(remote)
    await network.idle()
    expect(replica.awareness.getStates().has(remote.clientID)).toBe(true)
    host.port.disconnect()
    await network.idle()
    expect(replica.awareness.getStates().has(remote.clientID)).toBe(false)
    expect(replica.awareness.getLocalState()).not.toBeNull()
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Session } from '../../src/index.js'
import { createLink } from '../helpers/flaky-link.js'
import { nodeSession, startServer, texts, waitFor, type TestServer } from '../helpers/session.js'

describe('sessions over the relay', () => {
  let server: TestServer
  const sessions: Session[] = []
  const open = (room: string, options: Parameters<typeof nodeSession>[2] = {}) => {
    const session = nodeSession(server.url, room, options)
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

  it('two sessions converge on concurrent edits', async () => {
    const a = open('converge')
    const b = open('converge')
    await Promise.all([a.whenSynced(), b.whenSynced()])
    a.getText('text').insert(0, 'hello ')
    b.getText('text').insert(0, 'world ')
    await waitFor('both texts hold both edits', [a, b], () => {
      const [x, y] = texts([a, b])
      return x === y && x?.length === 12
    })
    expect(a.getText('text').toString()).toContain('hello ')
    expect(a.getText('text').toString()).toContain('world ')
  })

  it('a late joiner receives the whole document', async () => {
    const a = open('late')
    await a.whenSynced()
    a.getText('text').insert(0, 'written before b came')
    await a.whenSaved()
    const b = open('late')
    await b.whenSynced()
    expect(b.getText('text').toString()).toBe('written before b came')
  })

  it('a session that went offline and edited merges with edits made meanwhile', async () => {
    const link = createLink()
    const a = open('offline-merge', { WebSocket: link.WebSocket })
    const b = open('offline-merge')
    await Promise.all([a.whenSynced(), b.whenSynced()])
    a.getText('text').insert(0, 'base.')
    await waitFor('b sees the base text', [b], () => b.getText('text').toString() === 'base.')

    link.cut()
    await waitFor('a is offline', [a], () => a.status.relay !== 'connected')
    a.getText('text').insert(5, ' offline-a')
    a.getText('text').delete(0, 1)
    b.getText('text').insert(0, 'online-b ')
    expect(a.saved).toBe(false)

    link.heal()
    await waitFor('a and b converge', [a, b], () => {
      const [x = '', y] = texts([a, b])
      return x === y && x.includes('offline-a') && x.includes('online-b')
    })
    expect(a.getText('text').toString()).toBe('online-b ase. offline-a')
    await a.whenSaved()
    expect(a.saved).toBe(true)
  })

  it('duplicate delivery changes nothing and fires no second update', async () => {
    const a = open('dup')
    const b = open('dup')
    await Promise.all([a.whenSynced(), b.whenSynced()])
    let updates = 0
    b.doc.on('update', () => updates++)
    a.getText('text').insert(0, 'once')
    await waitFor('b has it', [b], () => b.getText('text').toString() === 'once')
    // The same update again, as if it had also come over WebRTC.
    const { encodeStateAsUpdate, applyUpdate } = await import('yjs')
    applyUpdate(b.doc, encodeStateAsUpdate(a.doc), 'webrtc')
    expect(updates).toBe(1)
    expect(b.getText('text').toString()).toBe('once')
  })

  it("undo reverts only this user's edits, on every peer", async () => {
    const a = open('undo')
    const b = open('undo')
    await Promise.all([a.whenSynced(), b.whenSynced()])
    const undo = a.undoManager(a.getText('text'))
    a.getText('text').insert(0, 'mine ')
    await waitFor('b has a’s text', [b], () => b.getText('text').toString() === 'mine ')
    b.getText('text').insert(5, 'theirs')
    await waitFor('a has b’s text', [a], () => a.getText('text').toString() === 'mine theirs')
    // The remote edit is not on a's stack, so one undo removes exactly a's insert.
    undo.undo()
    expect(a.getText('text').toString()).toBe('theirs')
    await waitFor('b sees the undo', [b], () => b.getText('text').toString() === 'theirs')
    expect(undo.undoStack).toHaveLength(0)
    expect(a.undoManager(a.getText('text'))).toBe(undo)
  })
})

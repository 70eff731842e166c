/**
 * The tab channel with Node's BroadcastChannel (same semantics as the browser's: every other
 * instance with the name receives each message, in order). A lone tab posts no document or
 * presence traffic; a tab that appears later — even one that edits before it has heard from
 * anyone — ends up with the same document in both tabs, and the leader learns its change number.
 */
import { randomUUID } from 'node:crypto'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import { createTabChannel, type TabChannel, type TabMessage } from '../src/transport/tab-channel.js'

interface Tab {
  readonly doc: Y.Doc
  readonly awareness: Awareness
  readonly channel: TabChannel
  readonly errors: string[]
}

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

const openTab = (name: string): Tab => {
  const doc = new Y.Doc()
  const awareness = new Awareness(doc)
  const errors: string[] = []
  const channel = createTabChannel({
    name,
    doc,
    awareness,
    onError: (message) => errors.push(message),
    onApplied: () => {},
  })
  cleanups.push(() => {
    channel.destroy()
    awareness.destroy()
    doc.destroy()
  })
  return { doc, awareness, channel, errors }
}

/** Records every message on the channel without ever posting (so no tab knows of it). */
const listen = (name: string): TabMessage[] => {
  const messages: TabMessage[] = []
  const spy = new BroadcastChannel(name)
  spy.onmessage = (event: MessageEvent) => messages.push(event.data as TabMessage)
  cleanups.push(() => spy.close())
  return messages
}

/** Resolves once `condition` holds, checking after each message delivery. */
const until = async (condition: () => boolean): Promise<void> => {
  for (let turn = 0; turn < 1_000 && !condition(); turn++) {
    // Messages are delivered as separate tasks: let them run.
    await new Promise((resolve) => setImmediate(resolve))
  }
  expect(condition()).toBe(true)
}

describe('tab channel', () => {
  it('posts no document or presence messages while it is the only tab', async () => {
    const name = randomUUID()
    const messages = listen(name)
    const a = openTab(name)
    a.doc.getText('t').insert(0, 'alone')
    a.awareness.setLocalStateField('user', { name: 'A' })
    // A marker from another instance: once it is delivered, anything posted before it was too.
    const marker = new BroadcastChannel(name)
    marker.postMessage({ type: 'marker' })
    marker.close()
    await until(() => a.errors.length > 0)
    expect(messages.map((message) => message.type)).toEqual(['hello', 'marker'])
    // The test's marker is not a tab message: it was reported and dropped, not applied.
    expect(a.errors).toEqual(['dropped a malformed message from another tab'])
    expect(a.channel.seq).toBe(1)
  })

  it('a newcomer that edits before it has heard from anyone still converges', async () => {
    const name = randomUUID()
    const a = openTab(name)
    a.doc.getText('t').insert(0, 'from A. ')
    const b = openTab(name)
    // Synchronously after opening: nothing from A has been delivered to B yet.
    b.doc.getText('t').insert(0, 'from B. ')
    expect(b.channel.seq).toBe(1)
    await until(() => a.doc.getText('t').toString() === b.doc.getText('t').toString())
    expect(a.doc.getText('t').toString()).toContain('from B. ')
    expect(a.doc.getText('t').toString()).toContain('from A. ')
    // A applied B's first change, so a leader A would count it in B's "saved".
    await until(() => (a.channel.seen()[b.channel.tabId] ?? 0) >= 1)

    // From now on edits flow both ways as they happen.
    b.doc.getText('t').insert(0, '2 ')
    await until(() => a.doc.getText('t').toString().startsWith('2 '))
    expect(a.errors).toEqual([])
    expect(b.errors).toEqual([])
  })

  it('shares presence with a later tab, and stops posting once the other tab said bye', async () => {
    const name = randomUUID()
    const a = openTab(name)
    a.awareness.setLocalStateField('user', { name: 'A' })
    const b = openTab(name)
    b.awareness.setLocalStateField('user', { name: 'B' })
    await until(() => a.awareness.getStates().get(b.doc.clientID)?.['user']?.name === 'B')
    await until(() => b.awareness.getStates().get(a.doc.clientID)?.['user']?.name === 'A')

    const messages = listen(name)
    b.channel.destroy()
    await until(() => messages.some((message) => message.type === 'bye'))
    a.doc.getText('t').insert(0, 'alone again')
    const marker = new BroadcastChannel(name)
    marker.postMessage({ type: 'marker' })
    marker.close()
    await until(() => a.errors.length > 0)
    expect(messages.map((message) => message.type)).toEqual(['bye', 'marker'])
  })
})

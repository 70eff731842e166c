/**
 * Loading a large document in pieces (R37): `splitState` cuts a document's state into updates of
 * bounded size that apply in order with nothing left pending, and together rebuild exactly the
 * document; the load worker does the same off the main thread and skips rows Yjs cannot apply.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createLoadWorker, type LoadWorker } from '../src/storage/load-worker.js'
import { splitState } from '../src/storage/split-state.js'
import { seededRandom as random } from './helpers/cluster.js'

/**
 * Three peers editing concurrently, exchanging updates late and out of order: text with formats
 * and deletions, a map of nested arrays and texts (structs that point into other clients' items
 * and into nested types). Returns the merged document.
 */
const editingHistory = (seed: number, steps: number): Y.Doc => {
  const next = random(seed)
  const peers = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
  for (let step = 0; step < steps; step++) {
    const doc = peers[Math.floor(next() * peers.length)] as Y.Doc
    const text = doc.getText('text')
    const roll = next()
    if (roll < 0.45 || text.length === 0) {
      const at = Math.floor(next() * (text.length + 1))
      text.insert(
        at,
        'abcdef'.slice(0, 1 + Math.floor(next() * 6)),
        next() < 0.2 ? { bold: true } : {},
      )
    } else if (roll < 0.65) {
      const at = Math.floor(next() * text.length)
      text.delete(at, Math.min(3, text.length - at))
    } else if (roll < 0.75) {
      text.format(Math.floor(next() * text.length), 2, { italic: next() < 0.5 ? true : null })
    } else {
      const map = doc.getMap('map')
      const key = `k${Math.floor(next() * 5)}`
      const existing = map.get(key)
      if (existing instanceof Y.Array && next() < 0.7) {
        const inner = new Y.Text('nested')
        existing.insert(Math.floor(next() * (existing.length + 1)), [inner, step])
      } else if (existing instanceof Y.Array) {
        const item = existing.get(Math.floor(next() * existing.length))
        if (item instanceof Y.Text) item.insert(0, `s${step}`)
        else if (existing.length > 0) existing.delete(0, 1)
      } else map.set(key, new Y.Array())
    }
    if (next() < 0.3) {
      const [a, b] = [peers[Math.floor(next() * 3)], peers[Math.floor(next() * 3)]] as [
        Y.Doc,
        Y.Doc,
      ]
      Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
    }
  }
  const merged = new Y.Doc()
  for (const peer of peers) Y.applyUpdate(merged, Y.encodeStateAsUpdate(peer))
  return merged
}

const expectSameDocument = (actual: Y.Doc, expected: Y.Doc) => {
  expect(actual.store.pendingStructs).toBeNull()
  expect(Y.encodeStateVector(actual)).toEqual(Y.encodeStateVector(expected))
  expect(actual.getText('text').toDelta()).toEqual(expected.getText('text').toDelta())
  expect(actual.getMap('map').toJSON()).toEqual(expected.getMap('map').toJSON())
  expect(
    Y.equalDeleteSets(
      Y.createDeleteSetFromStructStore(actual.store),
      Y.createDeleteSetFromStructStore(expected.store),
    ),
  ).toBe(true)
}

describe('splitState', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`cuts concurrent edits into updates that apply in order and rebuild the document (seed ${seed})`, () => {
      const original = editingHistory(seed, 800)
      const updates = splitState(Y, original, 60)
      expect(updates.length).toBeGreaterThan(5)
      const rebuilt = new Y.Doc()
      for (const update of updates) {
        Y.applyUpdate(rebuilt, update)
        // Nothing waits for a later piece: each applies on what came before.
        expect(rebuilt.store.pendingStructs).toBeNull()
      }
      expectSameDocument(rebuilt, original)
    })
  }

  it('keeps each piece near the size asked for', () => {
    const doc = new Y.Doc()
    const text = doc.getText('text')
    for (let k = 0; k < 2_000; k++)
      text.insert(Math.floor((k * 7919) % (text.length + 1)), 'x'.repeat(50))
    const updates = splitState(Y, doc, 10_000)
    const total = updates.reduce((sum, update) => sum + update.length, 0)
    expect(updates.length).toBeGreaterThanOrEqual(10)
    // About the size asked for in characters, plus a few bytes of ids per struct.
    for (const update of updates) expect(update.length).toBeLessThan(20_000)
    expect(total).toBeLessThan(Y.encodeStateAsUpdate(doc).length * 1.2)
  })

  it('gives one update for a small document', () => {
    const doc = new Y.Doc()
    doc.getText('text').insert(0, 'small')
    expect(splitState(Y, doc, 1_000)).toHaveLength(1)
  })
})

describe('createLoadWorker', () => {
  const workers: LoadWorker[] = []
  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.destroy()
  })

  it('splits off the main thread exactly as inline, and skips rows Yjs cannot apply', async () => {
    const worker = createLoadWorker()
    workers.push(worker)
    const original = editingHistory(9, 600)
    const rows = [Y.encodeStateAsUpdate(original), new Uint8Array([255, 255, 255, 255])]
    const { updates, failed } = await worker.split(rows, 80)
    expect(failed).toEqual([1])
    expect(updates).toEqual(splitState(Y, original, 80))
    const rebuilt = new Y.Doc()
    for (const update of updates) Y.applyUpdate(rebuilt, update)
    expectSameDocument(rebuilt, original)
  })
})

/**
 * The fast delta reader against Yjs's own `event.delta`, on random concurrent edits: every event
 * must give exactly Yjs's delta, and typing near the last change must take the fast path.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createDeltaReader, type DeltaOp } from '../../src/bindings/event-delta.js'
import { createRandom as random } from '../helpers/random.js'

interface Observed {
  readonly reader: ReturnType<typeof createDeltaReader>
  readonly events: { fast: DeltaOp[]; yjs: DeltaOp[] }[]
}

/** Observes `ytext` with a reader, recording the reader's and Yjs's delta of every event. */
const observe = (ytext: Y.Text): Observed => {
  const reader = createDeltaReader(ytext)
  const events: Observed['events'] = []
  ytext.observe((event) => {
    const fast = reader.read(event)
    events.push({ fast, yjs: event.delta as DeltaOp[] })
  })
  return { reader, events }
}

const FORMATS: Record<string, unknown>[] = [
  { bold: true },
  { italic: true },
  { bold: null },
  { header: 1 },
  { link: 'https://example.com' },
]

/** One random edit on `ytext`, near `cursor.at` most of the time (like typing). */
const edit = (
  ytext: Y.Text,
  next: () => number,
  cursor: { at: number },
  mix: { formats: boolean },
) => {
  const length = ytext.length
  const roll = next()
  if (next() < 0.1) cursor.at = Math.floor(next() * (length + 1))
  cursor.at = Math.min(cursor.at, length)
  if (roll < 0.55) {
    const text = next() < 0.8 ? 'abcdefgh\n'.charAt(Math.floor(next() * 9)) : 'word '
    const attributes =
      mix.formats && next() < 0.1 ? FORMATS[Math.floor(next() * FORMATS.length)] : undefined
    ytext.insert(cursor.at, text, attributes)
    cursor.at += text.length
  } else if (roll < 0.8) {
    if (cursor.at === 0) return
    const count = Math.min(cursor.at, next() < 0.8 ? 1 : 4)
    ytext.delete(cursor.at - count, count)
    cursor.at -= count
  } else if (roll < 0.85) {
    ytext.insertEmbed(cursor.at, { image: 'x.png' })
    cursor.at += 1
  } else if (mix.formats && roll < 0.92 && length > 0) {
    const from = Math.floor(next() * length)
    const format = FORMATS[Math.floor(next() * FORMATS.length)] ?? {}
    ytext.format(from, Math.min(5, length - from), format)
  } else if (length > 2) {
    // A replace: a delete and an insert in one transaction.
    const from = Math.floor(next() * (length - 1))
    ytext.doc?.transact(() => {
      ytext.delete(from, 1)
      ytext.insert(from, 'R')
    })
  }
}

/**
 * Two writers edit concurrently; an observer receives their updates one by one and, sometimes,
 * several merged into one, and edits locally too. Returns the observer's records.
 */
const scenario = (seed: number, steps: number, mix: { formats: boolean }) => {
  const next = random(seed)
  const writers = [new Y.Doc(), new Y.Doc()]
  const observer = new Y.Doc()
  const observed = observe(observer.getText('t'))
  const pending: Uint8Array[][] = writers.map(() => [])
  writers.forEach((doc, k) => doc.on('update', (update: Uint8Array) => pending[k]?.push(update)))
  // The observer's own edits reach the writers directly.
  observer.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === 'remote') return
    for (const doc of writers) Y.applyUpdate(doc, update, 'remote')
  })
  const cursors = [{ at: 0 }, { at: 0 }, { at: 0 }]
  for (let step = 0; step < steps; step++) {
    const who = Math.floor(next() * 3)
    if (who < 2)
      edit((writers[who] as Y.Doc).getText('t'), next, cursors[who] as { at: number }, mix)
    else edit(observer.getText('t'), next, cursors[2] as { at: number }, mix)
    // Deliver: usually each update alone (keystrokes), sometimes a merged batch, sometimes late.
    for (const [k, queue] of pending.entries()) {
      if (queue.length === 0 || next() < 0.2) continue
      const batch = queue.splice(0)
      const updates = next() < 0.3 ? [Y.mergeUpdates(batch)] : batch
      for (const update of updates) Y.applyUpdate(observer, update, 'remote')
      // Writers see each other through the observer's document.
      const other = writers[1 - k] as Y.Doc
      Y.applyUpdate(other, Y.encodeStateAsUpdate(observer, Y.encodeStateVector(other)), 'remote')
    }
  }
  return observed
}

describe('createDeltaReader', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`equals Yjs's delta on every event of random plain edits (seed ${seed})`, () => {
      const { events, reader } = scenario(seed, 600, { formats: false })
      expect(events.length).toBeGreaterThan(300)
      for (const [i, { fast, yjs }] of events.entries()) {
        expect(fast, `event ${i}`).toEqual(yjs)
      }
      // Most events are single runs near the last change: the fast path must carry them.
      expect(reader.stats.fast).toBeGreaterThan(reader.stats.full)
    })

    it(`equals Yjs's delta on every event of random formatted edits (seed ${seed})`, () => {
      const { events, reader } = scenario(seed * 101, 600, { formats: true })
      for (const [i, { fast, yjs }] of events.entries()) {
        expect(fast, `event ${i}`).toEqual(yjs)
      }
      expect(reader.stats.fast).toBeGreaterThan(0)
    })
  }

  it('types into a long text from far away without reading the whole text', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('t')
    const remote = new Y.Doc()
    const rtext = remote.getText('t')
    const paragraphs = Array.from({ length: 2_000 }, (_, k) => `paragraph ${k} `.repeat(5))
    for (const paragraph of paragraphs) rtext.insert(rtext.length, `${paragraph}\n`)
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote))
    const { events, reader } = observe(ytext)
    remote.on('update', (update: Uint8Array) => Y.applyUpdate(doc, update))
    // A typist in the middle: the first keystroke is read from Yjs, the rest from the anchor.
    const at = Math.floor(rtext.length / 2)
    for (let k = 0; k < 50; k++) rtext.insert(at + k, 'x')
    for (let k = 0; k < 10; k++) rtext.delete(at + 49 - k, 1)
    for (const { fast, yjs } of events) expect(fast).toEqual(yjs)
    expect(reader.stats).toEqual({ fast: 59, full: 1 })
  })

  it('reads a merged batch of typing (with Backspaces) and random far keystrokes fast', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('t')
    const remote = new Y.Doc()
    const rtext = remote.getText('t')
    for (let k = 0; k < 500; k++) rtext.insert(rtext.length, `line ${k} of some text\n`)
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote))
    const { events, reader } = observe(ytext)
    const next = random(42)
    let batch: Uint8Array[] = []
    remote.on('update', (update: Uint8Array) => batch.push(update))
    const deliver = () => {
      Y.applyUpdate(doc, Y.mergeUpdates(batch))
      batch = []
    }
    rtext.insert(0, '!') // the first event is read in full and places the checkpoints
    deliver()
    for (let round = 0; round < 20; round++) {
      // Far keystrokes, one update each: found from the nearest checkpoint.
      for (let k = 0; k < 5; k++) {
        rtext.insert(Math.floor(next() * rtext.length), 'k')
        deliver()
      }
      // A typist's burst, delivered as one merged update: several runs in one transaction.
      let at = Math.floor(next() * rtext.length)
      for (let k = 0; k < 30; k++) {
        if (next() < 0.2 && at > 0) rtext.delete(--at, 1)
        else rtext.insert(at++, 'abc'.charAt(k % 3))
      }
      deliver()
    }
    for (const { fast, yjs } of events) expect(fast).toEqual(yjs)
    expect(reader.stats.full).toBe(1)
    expect(reader.stats.fast).toBe(120)
  })

  it('types at random places in a long formatted text with the attributes of each place', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('t')
    const remote = new Y.Doc()
    const rtext = remote.getText('t')
    for (let k = 0; k < 600; k++) {
      rtext.insert(rtext.length, `plain ${k} `)
      rtext.insert(rtext.length, `bold ${k}`, k % 3 === 0 ? { bold: true } : { italic: true })
      rtext.insert(rtext.length, '\n', k % 5 === 0 ? { header: 2 } : {})
    }
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote))
    const { events, reader } = observe(ytext)
    remote.on('update', (update: Uint8Array) => Y.applyUpdate(doc, update))
    const next = random(7)
    // Typed without attributes of its own, a character takes those of where it lands.
    for (let k = 0; k < 200; k++) rtext.insert(Math.floor(next() * rtext.length), 'k')
    for (const { fast, yjs } of events) expect(fast).toEqual(yjs)
    expect(
      events.filter(({ yjs }) => yjs.some((op) => op.attributes !== undefined)).length,
    ).toBeGreaterThan(50)
    expect(reader.stats).toEqual({ fast: 199, full: 1 })
  })

  it('keeps formats it has seen: typing inside bold text reports the bold attribute', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('t')
    ytext.insert(0, 'plain ')
    ytext.insert(6, 'bold', { bold: true })
    ytext.insert(10, ' plain')
    const { events, reader } = observe(ytext)
    for (let k = 0; k < 5; k++) ytext.insert(8 + k, 'b')
    for (const { fast, yjs } of events) expect(fast).toEqual(yjs)
    expect(events.at(-1)?.fast).toEqual([
      { retain: 12 },
      { insert: 'b', attributes: { bold: true } },
    ])
    expect(reader.stats.fast).toBe(4)
  })

  it('applies the formats between the previous character and the insert', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('t')
    ytext.insert(0, 'a')
    ytext.insert(1, 'b', { link: 'https://example.com' })
    const { events, reader } = observe(ytext)
    ytext.insert(1, 'z') // before the link's opening format: plain (read from Yjs, remembered)
    ytext.insert(2, 'y', { link: 'https://example.com' }) // after it: the link, from the format
    for (const { fast, yjs } of events) expect(fast).toEqual(yjs)
    expect(events.at(-1)?.fast).toEqual([
      { retain: 2 },
      { insert: 'y', attributes: { link: 'https://example.com' } },
    ])
    expect(reader.stats).toEqual({ fast: 1, full: 1 })
  })
})

/**
 * How long the relay's main thread is busy with a large room (R37): applying a ≈ 10 MB document
 * (what loading the room does) and encoding it for a joining client (sync step 2). Both run on
 * the event loop today; this prints their durations so a change can be measured.
 *
 *   node --import tsx bench/large-doc.ts [--inserts 20000] [--size 500]
 */
import { parseArgs } from 'node:util'
import * as Y from 'yjs'

const { values } = parseArgs({
  options: {
    inserts: { type: 'string', default: '20000' },
    size: { type: 'string', default: '500' },
  },
})
const inserts = Number(values.inserts)
const size = Number(values.size)

// A seeded PRNG so every run builds the same document.
let seed = 42
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const source = new Y.Doc()
const text = source.getText('t')
source.transact(() => {
  for (let i = 0; i < inserts; i++)
    text.insert(Math.floor(random() * text.length), 'x'.repeat(size))
})
const update = Y.encodeStateAsUpdate(source)
console.log(`document: ${inserts} inserts of ${size} characters, ${update.length} bytes`)

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const apply: number[] = []
const encode: number[] = []
for (let round = 0; round < 5; round++) {
  const doc = new Y.Doc()
  let started = performance.now()
  Y.applyUpdate(doc, update)
  apply.push(performance.now() - started)
  started = performance.now()
  Y.encodeStateAsUpdate(doc)
  encode.push(performance.now() - started)
  doc.destroy()
}
console.log(
  `load (Y.applyUpdate):         median ${median(apply)?.toFixed(0)} ms of ${apply.map((v) => v.toFixed(0)).join(', ')}`,
)
console.log(
  `join (Y.encodeStateAsUpdate): median ${median(encode)?.toFixed(0)} ms of ${encode.map((v) => v.toFixed(0)).join(', ')}`,
)

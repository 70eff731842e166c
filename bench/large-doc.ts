/**
 * How long the relay's main thread is busy with a large room (R37): applying a ≈ 10 MB document
 * (what loading the room does) and encoding it for a joining client (sync step 2). Both run on
 * the event loop today; this prints their durations so a change can be measured.
 *
 *   node --expose-gc --import tsx bench/large-doc.ts [--inserts 20000] [--size 500]
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

// Loading the room as the relay does (relay/load-document.ts), inline and in pieces through the
// load worker, while a timer samples the event loop's delay: what every other room's sockets
// wait at most while this one loads.
const { default: pino } = await import('pino')
const { createDocumentLoader } = await import('../signaling-server/src/relay/load-document.js')
const { createMetrics } = await import('../signaling-server/src/metrics.js')
const { createLoadWorker } = await import('../signaling-server/src/storage/load-worker.js')
const worker = createLoadWorker()
const loaders = {
  inline: createDocumentLoader({ metrics: createMetrics(), logger: pino({ level: 'silent' }) }),
  pieces: createDocumentLoader({
    worker,
    metrics: createMetrics(),
    logger: pino({ level: 'silent' }),
  }),
}
/**
 * Runs `task` five times and reports, as medians, how long it took and the longest gap between the
 * ticks of a 1 ms timer meanwhile: how long the event loop was held at once.
 */
const measureStalls = async (label: string, task: () => Promise<void>) => {
  const totals: number[] = []
  const stalls: number[] = []
  for (let round = 0; round < 5; round++) {
    // Garbage of earlier rounds is collected outside the measurement (run with --expose-gc).
    ;(globalThis as { gc?: () => void }).gc?.()
    let last = performance.now()
    let longest = 0
    const timer = setInterval(() => {
      const now = performance.now()
      longest = Math.max(longest, now - last)
      last = now
    }, 1)
    await new Promise((resolve) => setTimeout(resolve, 20))
    longest = 0
    last = performance.now()
    const started = performance.now()
    await task()
    totals.push(performance.now() - started)
    // One more tick ends the gap of a task that held the loop to its very end.
    await new Promise((resolve) => setTimeout(resolve, 5))
    clearInterval(timer)
    stalls.push(longest)
  }
  console.log(
    `${label}: median ${median(totals)?.toFixed(0)} ms in all, ` +
      `longest event-loop stall median ${median(stalls)?.toFixed(0)} ms of ${stalls.map((v) => v.toFixed(0)).join(', ')}`,
  )
}

const stored = { updates: [update], bytes: update.length, logCount: 0 }
for (const [name, load] of Object.entries(loaders)) {
  await measureStalls(`room load, ${name.padEnd(6)}`, async () => {
    const doc = await load('room', stored)
    doc.destroy()
  })
}
await worker.destroy()

// Answering a client that joins with nothing, as the relay does (relay/sync-answer.ts): pieces
// cut from the live document one per event-loop turn.
const { createStateCutter } = await import('../signaling-server/src/storage/split-state.js')
const joined = new Y.Doc()
Y.applyUpdate(joined, update)
await measureStalls('join answer, pieces', async () => {
  const cutter = createStateCutter(Y, joined, Y.encodeStateVector(new Y.Doc()))
  let bytes = 0
  for (let piece = cutter.next(100_000); piece !== undefined; piece = cutter.next(100_000)) {
    bytes += piece.length
    await new Promise((resolve) => setImmediate(resolve))
  }
  bytes += cutter.rest().length
  if (bytes < update.length * 0.9) throw new Error(`pieces hold ${bytes} bytes of ${update.length}`)
})

/**
 * Loading a large room's document off the main thread (R37). The worker applies the stored
 * updates to a Y.Doc and hands back its state split into updates of bounded size
 * (split-state.ts), which the room applies one per event-loop turn: the relay keeps serving
 * other rooms while a 10 MB one loads, instead of stalling for the whole `applyUpdate`.
 */
import { createRequire } from 'node:module'
import { CoeditError } from '@coedit/sdk/protocol'
import { createEvalWorker } from './eval-worker.js'
import { createStateCutter, splitState } from './split-state.js'

/** What loading gives: the document as updates to apply in order, and the rows that failed. */
export interface SplitDocument {
  readonly updates: Uint8Array[]
  /** Indexes of stored updates Yjs could not apply (skipped, as the inline load does). */
  readonly failed: number[]
}

export interface LoadWorker {
  /**
   * Applies `updates` in the worker and returns the document as updates of about `maxLength`
   * clock units each. Rejects with code `load-failed` or `load-worker-crashed`.
   */
  split(updates: readonly Uint8Array[], maxLength: number): Promise<SplitDocument>
  destroy(): Promise<void>
}

interface Packed {
  readonly buffer: ArrayBuffer
  readonly offsets: number[]
}

const pack = (updates: readonly Uint8Array[]): Packed => {
  const offsets = [0]
  for (const update of updates) offsets.push((offsets.at(-1) ?? 0) + update.byteLength)
  const bytes = new Uint8Array(offsets.at(-1) ?? 0)
  updates.forEach((update, i) => bytes.set(update, offsets[i]))
  return { buffer: bytes.buffer, offsets }
}

const unpack = ({ buffer, offsets }: Packed): Uint8Array[] =>
  offsets.slice(1).map((end, i) => new Uint8Array(buffer, offsets[i], end - (offsets[i] ?? 0)))

/** The worker's program (see eval-worker.ts); split-state.ts is embedded by its source text. */
const workerSource = (yjsPath: string): string => `'use strict'
const { parentPort } = require('node:worker_threads')
const Y = require(${JSON.stringify(yjsPath)})
// Transpilers that keep function names (esbuild under tsx) call this helper in function source.
var __name = (target) => target
const createStateCutter = ${createStateCutter.toString()}
const splitState = ${splitState.toString()}
const unpack = ${unpack.toString()}
const pack = ${pack.toString()}
parentPort.on('message', ({ id, buffer, offsets, maxLength }) => {
  try {
    const doc = new Y.Doc({ gc: true })
    const failed = []
    // As the inline load: one transaction, and a row Yjs cannot apply is skipped and reported.
    doc.transact(() => {
      unpack({ buffer, offsets }).forEach((update, index) => {
        try {
          Y.applyUpdate(doc, update)
        } catch {
          failed.push(index)
        }
      })
    })
    const result = pack(splitState(Y, doc, maxLength))
    doc.destroy()
    parentPort.postMessage({ id, result: { ...result, failed } }, [result.buffer])
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) })
  }
})
`

export const createLoadWorker = (): LoadWorker => {
  const worker = createEvalWorker<Packed & { maxLength: number }, Packed & { failed: number[] }>({
    source: workerSource(createRequire(import.meta.url).resolve('yjs')),
    failed: (message) => new CoeditError('load-failed', `Loading a document failed: ${message}`),
    crashed: (detail, cause) =>
      new CoeditError('load-worker-crashed', `The load worker crashed: ${detail}`, { cause }),
  })
  return {
    async split(updates, maxLength) {
      const packed = pack(updates)
      const reply = await worker.request({ ...packed, maxLength }, [packed.buffer])
      return { updates: unpack(reply), failed: reply.failed }
    },
    destroy: () =>
      worker.destroy(new CoeditError('load-worker-destroyed', 'The load worker was destroyed')),
  }
}

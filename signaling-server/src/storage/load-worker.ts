/**
 * Loading a large room's document off the main thread (R37). The worker applies the stored
 * updates to a Y.Doc and hands back its state split into updates of bounded size
 * (split-state.ts), which the room applies one per event-loop turn: the relay keeps serving
 * other rooms while a 10 MB one loads, instead of stalling for the whole `applyUpdate`.
 */
import { createRequire } from 'node:module'
import { CoeditError } from '@coedit/sdk/protocol'
import { createEvalWorker, EMBEDDED_FUNCTIONS_PRELUDE } from './eval-worker.js'
import { packUpdates, unpackUpdates, type PackedUpdates } from './packed-updates.js'
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

/** The worker's program (see eval-worker.ts); split-state.ts is embedded by its source text. */
const workerSource = (yjsPath: string): string => `'use strict'
const { parentPort } = require('node:worker_threads')
const Y = require(${JSON.stringify(yjsPath)})
${EMBEDDED_FUNCTIONS_PRELUDE}
const createStateCutter = ${createStateCutter.toString()}
const splitState = ${splitState.toString()}
const unpackUpdates = ${unpackUpdates.toString()}
const packUpdates = ${packUpdates.toString()}
parentPort.on('message', ({ id, buffer, offsets, maxLength }) => {
  try {
    const doc = new Y.Doc({ gc: true })
    const failed = []
    // As the inline load: one transaction, and a row Yjs cannot apply is skipped and reported.
    doc.transact(() => {
      unpackUpdates({ buffer, offsets }).forEach((update, index) => {
        try {
          Y.applyUpdate(doc, update)
        } catch {
          failed.push(index)
        }
      })
    })
    const result = packUpdates(splitState(Y, doc, maxLength))
    doc.destroy()
    parentPort.postMessage({ id, result: { ...result, failed } }, [result.buffer])
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) })
  }
})
`

export const createLoadWorker = (): LoadWorker => {
  const worker = createEvalWorker<
    PackedUpdates & { maxLength: number },
    PackedUpdates & { failed: number[] }
  >({
    source: workerSource(createRequire(import.meta.url).resolve('yjs')),
    failed: (message) => new CoeditError('load-failed', `Loading a document failed: ${message}`),
    crashed: (detail, cause) =>
      new CoeditError('load-worker-crashed', `The load worker crashed: ${detail}`, { cause }),
  })
  return {
    async split(updates, maxLength) {
      const packed = packUpdates(updates)
      const reply = await worker.request({ ...packed, maxLength }, [packed.buffer])
      return { updates: unpackUpdates(reply), failed: reply.failed }
    },
    destroy: () =>
      worker.destroy(new CoeditError('load-worker-destroyed', 'The load worker was destroyed')),
  }
}

/**
 * Merging Yjs updates for compaction, on the main thread or in a worker thread.
 *
 * Owns how updates are merged and the merge worker's lifecycle: started lazily, unref()ed while
 * idle so it never keeps the process alive, replaced after a crash. Merging a 10 MB room takes
 * long enough to stall every socket of the server, so compaction uses the worker (R37); the inline
 * merge is for small inputs and tests. Nothing here knows about storage backends or rooms.
 *
 * Both merge by applying the updates to a fresh Y.Doc and encoding its state, not with
 * Y.mergeUpdates: that one neither joins the one-character items of a typing history nor drops
 * deleted content, so 2,000 keystrokes compacted to ~10× the document's size (R23 allows 3×), and
 * it is quadratic in the number of updates (15 s for 20,000; the Y.Doc takes 0.2 s). The result
 * describes the same document; updates whose dependencies are missing are kept (Yjs encodes a
 * doc's pending structs with its state), so merging never loses an edit.
 */
import { createRequire } from 'node:module'
import * as Y from 'yjs'
import { CoeditError } from '@coedit/sdk/protocol'
import { createEvalWorker, EMBEDDED_FUNCTIONS_PRELUDE } from './eval-worker.js'
import { packUpdates, unpackUpdates, type PackedUpdates } from './packed-updates.js'
import type { MergeUpdates } from './storage.js'

/**
 * Merges on the calling thread (see the module comment for how). Blocks the event loop for the
 * whole merge. Must stay in step with the worker's copy in `workerSource`; a test compares them.
 */
export const mergeUpdatesInline: MergeUpdates = async (updates) => {
  const doc = new Y.Doc()
  // One transaction: the doc joins items once at its end instead of after every update.
  doc.transact(() => {
    for (const update of updates) Y.applyUpdate(doc, update)
  })
  const merged = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  return merged
}

/** A merge worker: `merge` gives the bytes `mergeUpdatesInline` gives, off the main thread. */
export interface MergeWorker {
  /**
   * Merges updates in the worker. Many calls may be in flight; each resolves independently. The
   * caller's arrays are copied, never detached. Rejects with code `merge-failed` for updates Yjs
   * cannot decode, `merge-worker-crashed` if the worker dies, `merge-worker-destroyed` if
   * `destroy()` is called first.
   */
  readonly merge: MergeUpdates
  /** Terminates the worker and rejects merges in flight. A later `merge` starts a new worker. */
  destroy(): Promise<void>
}

/**
 * The worker's program, as CommonJS source evaluated with `eval: true`: a file path would have to
 * point at compiled JavaScript, which does not exist when Vitest runs the TypeScript sources.
 * yjs is required by the absolute path the parent resolved, because an eval'd worker has no
 * module of its own to resolve from.
 */
const workerSource = (yjsPath: string): string => `'use strict'
const { parentPort } = require('node:worker_threads')
const Y = require(${JSON.stringify(yjsPath)})
${EMBEDDED_FUNCTIONS_PRELUDE}
const unpackUpdates = ${unpackUpdates.toString()}
parentPort.on('message', ({ id, buffer, offsets }) => {
  try {
    const updates = unpackUpdates({ buffer, offsets })
    // Same algorithm as mergeUpdatesInline.
    const doc = new Y.Doc()
    doc.transact(() => {
      for (const update of updates) Y.applyUpdate(doc, update)
    })
    let merged = Y.encodeStateAsUpdate(doc)
    doc.destroy()
    // Only a buffer the result owns entirely can be transferred.
    if (merged.byteOffset !== 0 || merged.byteLength !== merged.buffer.byteLength) {
      merged = merged.slice()
    }
    parentPort.postMessage({ id, result: merged }, [merged.buffer])
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) })
  }
})
`

/** Creates a merge worker. No thread starts until the first `merge`. */
export const createMergeWorker = (): MergeWorker => {
  const worker = createEvalWorker<PackedUpdates, Uint8Array>({
    source: workerSource(createRequire(import.meta.url).resolve('yjs')),
    failed: (message) => new CoeditError('merge-failed', `Merging Yjs updates failed: ${message}`),
    crashed: (detail, cause) =>
      new CoeditError('merge-worker-crashed', `The merge worker crashed: ${detail}`, { cause }),
  })
  return {
    merge: async (updates) => {
      const packed = packUpdates(updates)
      return worker.request(packed, [packed.buffer])
    },
    destroy: () =>
      worker.destroy(
        new CoeditError(
          'merge-worker-destroyed',
          'The merge worker was destroyed during the merge',
        ),
      ),
  }
}

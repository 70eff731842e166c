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
import { Worker } from 'node:worker_threads'
import * as Y from 'yjs'
import { CoeditError } from '@coedit/sdk/protocol'
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

interface MergeRequest {
  readonly id: number
  /** All updates concatenated, so that one transfer moves them (thousands of rows are common). */
  readonly buffer: ArrayBuffer
  /** `updates.length + 1` byte offsets into `buffer`: update i is `[offsets[i], offsets[i + 1])`. */
  readonly offsets: number[]
}

type MergeReply =
  | { readonly id: number; readonly merged: Uint8Array }
  | { readonly id: number; readonly error: string }

interface Pending {
  readonly resolve: (merged: Uint8Array) => void
  readonly reject: (error: Error) => void
}

interface RunningWorker {
  readonly worker: Worker
  readonly pending: Map<number, Pending>
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
parentPort.on('message', ({ id, buffer, offsets }) => {
  try {
    const updates = []
    for (let i = 1; i < offsets.length; i++) {
      updates.push(new Uint8Array(buffer, offsets[i - 1], offsets[i] - offsets[i - 1]))
    }
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
    parentPort.postMessage({ id, merged }, [merged.buffer])
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) })
  }
})
`

/**
 * Copies the updates into one fresh ArrayBuffer that can be transferred. Transferring the
 * callers' own buffers would detach arrays they may still hold (and Node's pooled Buffers share
 * one ArrayBuffer with unrelated data); one memcpy is cheap next to the merge.
 */
const pack = (updates: readonly Uint8Array[]): { buffer: ArrayBuffer; offsets: number[] } => {
  const offsets = [0]
  let total = 0
  for (const update of updates) {
    total += update.byteLength
    offsets.push(total)
  }
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const update of updates) {
    bytes.set(update, offset)
    offset += update.byteLength
  }
  return { buffer: bytes.buffer, offsets }
}

/** Creates a merge worker. No thread starts until the first `merge`. */
export const createMergeWorker = (): MergeWorker => {
  const source = workerSource(createRequire(import.meta.url).resolve('yjs'))
  let running: RunningWorker | null = null
  let nextId = 0

  // Rejects everything `dying` still owes and forgets it, so the next merge starts a fresh worker.
  // Events of a worker that is no longer current are ignored: its requests were already settled.
  const retire = (dying: RunningWorker, error: Error): void => {
    if (running === dying) running = null
    for (const request of dying.pending.values()) request.reject(error)
    dying.pending.clear()
  }

  const start = (): RunningWorker => {
    // execArgv: [] because the parent's flags are not meant for this script: --input-type=module
    // would make it ESM (no require), and loaders such as tsx only slow its start.
    const worker = new Worker(source, { eval: true, execArgv: [] })
    const started: RunningWorker = { worker, pending: new Map() }
    worker.unref()
    worker.on('message', (reply: MergeReply) => {
      const request = started.pending.get(reply.id)
      if (request === undefined) return
      started.pending.delete(reply.id)
      if (started.pending.size === 0) worker.unref()
      if ('merged' in reply) request.resolve(reply.merged)
      else {
        request.reject(
          new CoeditError('merge-failed', `Merging Yjs updates failed: ${reply.error}`),
        )
      }
    })
    worker.on('error', (error) => {
      retire(
        started,
        new CoeditError('merge-worker-crashed', `The merge worker crashed: ${error.message}`, {
          cause: error,
        }),
      )
    })
    worker.on('exit', (code) => {
      retire(
        started,
        new CoeditError('merge-worker-crashed', `The merge worker exited with code ${code}`),
      )
    })
    return started
  }

  const merge: MergeUpdates = (updates) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const { buffer, offsets } = pack(updates)
      const target = running ?? (running = start())
      const request: MergeRequest = { id: nextId++, buffer, offsets }
      target.pending.set(request.id, { resolve, reject })
      // Referenced while busy: a pending compaction is work the process should finish.
      target.worker.ref()
      try {
        target.worker.postMessage(request, [buffer])
      } catch (error) {
        target.pending.delete(request.id)
        if (target.pending.size === 0) target.worker.unref()
        throw error
      }
    })

  const destroy = async (): Promise<void> => {
    const current = running
    if (current === null) return
    retire(
      current,
      new CoeditError('merge-worker-destroyed', 'The merge worker was destroyed during the merge'),
    )
    await current.worker.terminate()
  }

  return { merge, destroy }
}

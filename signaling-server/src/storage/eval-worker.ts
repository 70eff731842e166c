/**
 * A worker thread started from CommonJS source that answers requests by id — the lifecycle shared
 * by the merge worker and the SQLite writer.
 *
 * Source, not a file: a file path would have to point at compiled JavaScript, which does not exist
 * when Vitest runs the TypeScript sources. The thread starts on the first request, is `unref()`ed
 * while idle (it never keeps the process alive) and referenced while requests are pending (work
 * the process should finish). If it crashes or exits, its pending requests are rejected and the
 * next request starts a fresh one.
 *
 * Wire contract for the source: it receives `{ id, ...request }` and posts back either
 * `{ id, result }` or `{ id, error: string }`.
 */
import { Worker, type Transferable } from 'node:worker_threads'

/**
 * Put before functions a program embeds by their source text (`fn.toString()`): transpilers that
 * keep function names (esbuild under tsx) call this helper inside such source.
 */
export const EMBEDDED_FUNCTIONS_PRELUDE = 'var __name = (target) => target'

type Reply<R> =
  { readonly id: number; readonly result: R } | { readonly id: number; readonly error: string }

interface Pending<R> {
  readonly resolve: (result: R) => void
  readonly reject: (error: Error) => void
}

interface Running<R> {
  readonly worker: Worker
  readonly pending: Map<number, Pending<R>>
}

export interface EvalWorker<Q extends object, R> {
  /** Sends one request; `transfer` lists buffers to move instead of copy. */
  request(message: Q, transfer?: readonly Transferable[]): Promise<R>
  /** Terminates the thread, rejecting requests in flight with `reason`. */
  destroy(reason: Error): Promise<void>
}

export const createEvalWorker = <Q extends object, R>(options: {
  /** CommonJS program; see the wire contract above. */
  source: string
  workerData?: unknown
  /** The error for a request the program answered with `error`. */
  failed: (message: string) => Error
  /** The error for requests in flight when the thread crashed or exited. */
  crashed: (detail: string, cause?: unknown) => Error
}): EvalWorker<Q, R> => {
  let running: Running<R> | null = null
  let nextId = 0

  // Rejects everything `dying` still owes and forgets it. Events of a thread that is no longer
  // current are ignored: its requests were already settled.
  const retire = (dying: Running<R>, error: Error): void => {
    if (running === dying) running = null
    for (const request of dying.pending.values()) request.reject(error)
    dying.pending.clear()
  }

  const start = (): Running<R> => {
    // execArgv: [] because the parent's flags are not meant for this program: --input-type=module
    // would make it ESM (no require), and loaders such as tsx only slow its start.
    const worker = new Worker(options.source, {
      eval: true,
      execArgv: [],
      workerData: options.workerData,
    })
    const started: Running<R> = { worker, pending: new Map() }
    worker.unref()
    worker.on('message', (reply: Reply<R>) => {
      const request = started.pending.get(reply.id)
      if (request === undefined) return
      started.pending.delete(reply.id)
      if (started.pending.size === 0) worker.unref()
      if ('result' in reply) request.resolve(reply.result)
      else request.reject(options.failed(reply.error))
    })
    worker.on('error', (error) => retire(started, options.crashed(error.message, error)))
    worker.on('exit', (code) => retire(started, options.crashed(`exited with code ${code}`)))
    return started
  }

  return {
    request(message, transfer = []) {
      return new Promise<R>((resolve, reject) => {
        const target = running ?? (running = start())
        const id = nextId++
        target.pending.set(id, { resolve, reject })
        target.worker.ref()
        try {
          target.worker.postMessage({ ...message, id }, transfer)
        } catch (error) {
          target.pending.delete(id)
          if (target.pending.size === 0) target.worker.unref()
          throw error
        }
      })
    },
    async destroy(reason) {
      const current = running
      if (current === null) return
      retire(current, reason)
      await current.worker.terminate()
    },
  }
}

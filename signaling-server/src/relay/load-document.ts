/**
 * A room's Y.Doc from what storage holds (R37: loading a 10 MB room keeps event-loop lag low).
 *
 * A small room is applied at once. A large one is applied in the load worker and handed back as
 * updates of bounded size (storage/split-state.ts), applied here one per event-loop turn, so the
 * relay keeps serving every other room while it loads. Either way a stored row Yjs cannot apply
 * is skipped and reported rather than making the room unavailable forever, and if the worker
 * fails the room is loaded inline: slower for everyone else, but never lost.
 */
import type { Logger } from 'pino'
import * as Y from 'yjs'
import type { Metrics } from '../metrics.js'
import type { LoadWorker } from '../storage/load-worker.js'
import type { StoredRoom } from '../storage/storage.js'

export interface DocumentLoaderOptions {
  /** Absent: every room is applied inline. */
  readonly worker?: LoadWorker | undefined
  readonly metrics: Metrics
  readonly logger: Logger
  /** Rooms storing at least this many bytes are loaded through the worker. Default 1 MB. */
  readonly largeRoomBytes?: number
  /** Clock units (about characters) per piece applied in one turn. Default 100,000. */
  readonly pieceLength?: number
}

export type LoadDocument = (name: string, stored: StoredRoom) => Promise<Y.Doc>

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

export const createDocumentLoader = (options: DocumentLoaderOptions): LoadDocument => {
  const { worker, metrics, logger } = options
  const largeRoomBytes = options.largeRoomBytes ?? 1_000_000
  const pieceLength = options.pieceLength ?? 100_000

  const skipped = (name: string, index: number, error?: unknown) => {
    metrics.drops.labels('corrupt-stored-update').inc()
    logger.error({ room: name, index, err: error }, 'skipping a stored update that fails')
  }

  const inline = (name: string, updates: readonly Uint8Array[]): Y.Doc => {
    const doc = new Y.Doc({ gc: true })
    doc.transact(() => {
      updates.forEach((update, index) => {
        try {
          Y.applyUpdate(doc, update)
        } catch (error) {
          skipped(name, index, error)
        }
      })
    })
    return doc
  }

  return async (name, stored) => {
    if (worker === undefined || stored.bytes < largeRoomBytes) return inline(name, stored.updates)
    const started = performance.now()
    let pieces: Uint8Array[]
    try {
      const split = await worker.split(stored.updates, pieceLength)
      for (const index of split.failed) skipped(name, index)
      pieces = split.updates
    } catch (error) {
      logger.warn({ room: name, err: error }, 'load worker failed; loading the room inline')
      return inline(name, stored.updates)
    }
    const doc = new Y.Doc({ gc: true })
    for (const [index, piece] of pieces.entries()) {
      if (index > 0) await nextTurn()
      Y.applyUpdate(doc, piece)
    }
    logger.debug(
      { room: name, bytes: stored.bytes, pieces: pieces.length, ms: performance.now() - started },
      'large room loaded in pieces',
    )
    return doc
  }
}

/**
 * Group commit for one room: effective updates are queued, written in one storage transaction per
 * batch window, and retried with jittered backoff when storage fails — never dropped (R21, R25).
 *
 * Acknowledgements ride on the same queue: a connection's document message is acknowledged only
 * once every update queued before it is durable. That is what makes "saved" truthful (R22), also
 * for messages that changed nothing because their content was already queued by someone else.
 */
import type { Logger } from 'pino'
import type { PersistenceOptions } from '../config.js'
import type { Metrics } from '../metrics.js'
import type { Storage } from '../storage/storage.js'

export interface FlushResult<T> {
  /** The updates that became durable. */
  readonly updates: readonly Uint8Array[]
  /**
   * What `captureState` returned when this batch was taken: everything applied up to then is in
   * this batch or an earlier, already durable one (the room passes its state vector).
   */
  readonly state: Uint8Array
  /** Per target, the highest message sequence number now durable. */
  readonly acks: ReadonlyMap<T, number>
}

export interface RoomPersister<T> {
  /** Queues an effective update for the room's log. */
  append(update: Uint8Array): void
  /** Acknowledges message `seq` of `target` once everything queued so far is durable. */
  acknowledge(target: T, seq: number): void
  /** Resolves once everything queued before the call is durable (retrying as long as needed). */
  flush(): Promise<void>
  /** Whether the last write attempt failed (the room is "unsaved" until a retry succeeds). */
  readonly failing: boolean
  /** Updates waiting to be written. */
  readonly backlog: number
  /** Stops timers. Queued updates that were not flushed are reported in the log. */
  destroy(): void
}

export const createRoomPersister = <T>(options: {
  room: string
  storage: Storage
  settings: PersistenceOptions
  metrics: Metrics
  logger: Logger
  /** Called when a batch is taken, before it is written. */
  captureState: () => Uint8Array
  /** Called after each successful flush, before the next batch starts. */
  onDurable: (result: FlushResult<T>) => void
}): RoomPersister<T> => {
  const { room, storage, settings, metrics, logger, onDurable, captureState } = options
  let pending: Uint8Array[] = []
  let pendingAcks = new Map<T, number>()
  let timer: ReturnType<typeof setTimeout> | null = null
  let running: Promise<void> | null = null
  let failures = 0
  let destroyed = false

  const hasWork = () => pending.length > 0 || pendingAcks.size > 0

  const backoff = () => {
    // Full jitter, capped: the cap bounds how long "unsaved" outlives a storage recovery.
    const ceiling = Math.min(settings.retryMaxMs, settings.retryMinMs * 2 ** (failures - 1))
    return settings.retryMinMs / 2 + Math.random() * ceiling
  }

  // The retry wait has its own timer: `run()` clears the batch-window timer, never this one.
  let retry: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | null = null
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      retry = {
        timer: setTimeout(() => {
          retry = null
          resolve()
        }, ms),
        resolve,
      }
    })

  const writeBatches = async () => {
    while (hasWork() && !destroyed) {
      const batch = pending
      const acks = pendingAcks
      pending = []
      pendingAcks = new Map()
      const state = captureState()
      const started = performance.now()
      try {
        if (batch.length > 0) await storage.appendUpdates(room, batch)
        metrics.persistSeconds.observe((performance.now() - started) / 1000)
        if (failures > 0) logger.info({ room, failures }, 'storage recovered')
        failures = 0
        onDurable({ updates: batch, acks, state })
      } catch (error) {
        failures++
        metrics.persistErrors.inc()
        // Put the batch back in front: order is not required for Yjs, but it keeps logs readable.
        pending = batch.concat(pending)
        for (const [target, seq] of acks) {
          pendingAcks.set(target, Math.max(seq, pendingAcks.get(target) ?? 0))
        }
        logger.warn({ room, err: error, failures, backlog: pending.length }, 'flush failed')
        await wait(backoff())
      }
    }
  }

  const run = (): Promise<void> => {
    if (timer !== null) {
      clearTimeout(timer)
      timer = null
    }
    running ??= writeBatches().finally(() => {
      running = null
    })
    return running
  }

  const schedule = () => {
    if (timer !== null || running !== null || destroyed) return
    timer = setTimeout(() => {
      timer = null
      void run()
    }, settings.batchWindowMs)
  }

  return {
    append(update) {
      pending.push(update)
      schedule()
    },
    acknowledge(target, seq) {
      pendingAcks.set(target, seq)
      schedule()
    },
    async flush() {
      while (!destroyed && (hasWork() || running !== null)) await run()
    },
    get failing() {
      return failures > 0
    },
    get backlog() {
      return pending.length
    },
    destroy() {
      destroyed = true
      if (timer !== null) clearTimeout(timer)
      timer = null
      if (retry !== null) {
        clearTimeout(retry.timer)
        retry.resolve()
        retry = null
      }
      if (pending.length > 0) {
        logger.error({ room, backlog: pending.length }, 'room closed with unsaved updates')
      }
    },
  }
}

/**
 * A tiny typed event emitter: events are lowercase nouns with one object payload (style.md).
 * A throwing listener must not break the emitter's caller (a transport in the middle of a state
 * change), so its error is rethrown asynchronously where the host reports it.
 */
export type Listener<T> = (payload: T) => void

export interface Emitter<Events extends object> {
  /** Subscribes; returns the matching unsubscribe function. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void
  emit<K extends keyof Events>(event: K, payload: Events[K]): void
  /** Removes every listener (called by `destroy()`). */
  clear(): void
}

export const createEmitter = <Events extends object>(): Emitter<Events> => {
  const listeners = new Map<keyof Events, Set<Listener<never>>>()
  const emitter: Emitter<Events> = {
    on(event, listener) {
      let set = listeners.get(event)
      if (set === undefined) listeners.set(event, (set = new Set()))
      set.add(listener as Listener<never>)
      return () => emitter.off(event, listener)
    },
    off(event, listener) {
      listeners.get(event)?.delete(listener as Listener<never>)
    },
    emit(event, payload) {
      const set = listeners.get(event)
      if (set === undefined) return
      for (const listener of [...set]) {
        try {
          ;(listener as Listener<Events[typeof event]>)(payload)
        } catch (error) {
          queueMicrotask(() => {
            throw error
          })
        }
      }
    },
    clear() {
      listeners.clear()
    },
  }
  return emitter
}

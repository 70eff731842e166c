/**
 * Many updates in one ArrayBuffer, so that a single transfer moves them to or from a worker
 * thread (rooms often have thousands of rows). Copying them once into a fresh buffer is cheap
 * next to what the workers do, and never detaches arrays the caller still holds (Node's pooled
 * Buffers share one ArrayBuffer with unrelated data).
 *
 * Both functions are self-contained: the workers run their source text too.
 */
export interface PackedUpdates {
  readonly buffer: ArrayBuffer
  /** `updates.length + 1` byte offsets into `buffer`: update i is `[offsets[i], offsets[i + 1])`. */
  readonly offsets: number[]
}

export const packUpdates = (updates: readonly Uint8Array[]): PackedUpdates => {
  const offsets = [0]
  for (const update of updates) offsets.push((offsets[offsets.length - 1] ?? 0) + update.byteLength)
  const bytes = new Uint8Array(offsets[offsets.length - 1] ?? 0)
  updates.forEach((update, i) => bytes.set(update, offsets[i]))
  return { buffer: bytes.buffer, offsets }
}

export const unpackUpdates = ({ buffer, offsets }: PackedUpdates): Uint8Array[] =>
  offsets.slice(1).map((end, i) => new Uint8Array(buffer, offsets[i], end - (offsets[i] ?? 0)))

/**
 * The statistics the benchmarks report: latency samples, nearest-rank quantiles of one run, and
 * medians over rounds. One definition, so that every table computes its figures the same way.
 */

/** Latency samples of one run (ms), in a growable Float64Array: a run may record many thousands. */
export class Samples {
  private data = new Float64Array(1 << 16)
  length = 0
  push(value: number) {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2)
      grown.set(this.data)
      this.data = grown
    }
    this.data[this.length++] = value
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort()
  }
}

/** Nearest-rank quantile of sorted samples (NaN when there are none). */
export const quantile = (sorted: Float64Array, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}

/** Median of per-round figures; rounds that measured nothing (NaN) are left out. */
export const median = (values: readonly number[]): number => {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

/**
 * Line start offsets of the model, kept incrementally (issue 4: a remote keystroke in a 100-page
 * document must not sum every line's length). A Fenwick tree over each line's size (its text
 * plus its '\n'): the start of a line and the line holding an index are O(log n); replacing lines
 * with as many lines is O(k log n); a change in the number of lines rebuilds the tree, which is
 * O(n) additions of cached numbers (no line is read again).
 */
import { lineLength, type Line } from './lines.js'
import { spliceMany } from './splice.js'

export class LineIndex {
  /** `sizes[i]`: the length of line i plus its '\n'. */
  private sizes: number[] = []
  /** 1-based Fenwick tree over `sizes`. */
  private tree: number[] = [0]

  constructor(lines: readonly Line[]) {
    this.reset(lines)
  }

  get count(): number {
    return this.sizes.length
  }

  /** Rebuilds from `lines`. */
  reset(lines: readonly Line[]): void {
    this.sizes = lines.map((line) => lineLength(line) + 1)
    this.build()
  }

  private build(): void {
    const n = this.sizes.length
    const tree = new Array<number>(n + 1).fill(0)
    for (let i = 1; i <= n; i++) {
      tree[i] = (tree[i] ?? 0) + (this.sizes[i - 1] ?? 0)
      const parent = i + (i & -i)
      if (parent <= n) tree[parent] = (tree[parent] ?? 0) + (tree[i] ?? 0)
    }
    this.tree = tree
  }

  /** Lines `first`..`first + removed` become `lines`. */
  splice(first: number, removed: number, lines: readonly Line[]): void {
    const sizes = lines.map((line) => lineLength(line) + 1)
    if (sizes.length !== removed) {
      spliceMany(this.sizes, first, removed, sizes)
      this.build()
      return
    }
    for (const [k, size] of sizes.entries()) {
      const i = first + k
      const delta = size - (this.sizes[i] ?? 0)
      this.sizes[i] = size
      if (delta === 0) continue
      for (let j = i + 1; j < this.tree.length; j += j & -j) {
        this.tree[j] = (this.tree[j] ?? 0) + delta
      }
    }
  }

  /** The model index where line `line` starts (the total size for `line === count`). */
  start(line: number): number {
    let sum = 0
    for (let j = Math.min(line, this.sizes.length); j > 0; j -= j & -j) sum += this.tree[j] ?? 0
    return sum
  }

  /** The length of line `line`, without its '\n'. */
  length(line: number): number {
    return (this.sizes[line] ?? 1) - 1
  }

  /** The sum of all line sizes (every line counted with a '\n'). */
  total(): number {
    return this.start(this.sizes.length)
  }

  /**
   * The line that holds model index `index`: the first line whose text or end (just before its
   * '\n') reaches it. Undefined past the last line's end.
   */
  find(index: number): number | undefined {
    // The smallest i with start(i + 1) > index, by binary lifting.
    const n = this.sizes.length
    let position = 0
    let remaining = index
    let step = 1
    while (step * 2 <= n) step *= 2
    for (; step > 0; step >>= 1) {
      const next = position + step
      const value = this.tree[next]
      if (next <= n && value !== undefined && value <= remaining) {
        position = next
        remaining -= value
      }
    }
    return position < n ? position : undefined
  }
}

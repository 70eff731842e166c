/**
 * A Y.Text event's delta without walking the whole text (issue 4: a remote keystroke in a
 * 100-page document must cost well under a millisecond).
 *
 * Yjs computes `YTextEvent.delta` by walking every item of the text from its start, on every
 * event: O(document). Its search markers cannot help, since Yjs drops them on every remote
 * transaction. But a delta needs only where each changed run of characters is and, for inserted
 * text, the attributes in effect there:
 *
 * - The changed items come from the transaction itself (the structs past its before-state and
 *   its delete set): the cost is the size of the change, not of the text.
 * - Their indexes come from checkpoints: items spread through the text (about one per
 *   {@link SPACING} items) whose index is known and kept up to date by shifting it with every
 *   delta. A run's index is found by walking from it to the nearest checkpoint.
 * - The attributes: none when the text has never held a format; otherwise those in effect at the
 *   nearest checkpoint on the left (each keeps them: only a format change alters them, and that
 *   is read in full) updated by the format items between it and the run.
 *
 * Anything else (a format changing, runs too close to order, unknown attributes, no checkpoint
 * near) is read from Yjs's own `event.delta`, after which the checkpoints are placed again.
 * Either way the result is exactly Yjs's delta; `event-delta.test.ts` checks that against
 * `event.delta` on random concurrent edits.
 */
import * as Y from 'yjs'
import type { DeltaChange } from './rich/positions.js'

type Attributes = Record<string, unknown>
/** An event delta operation as Yjs reports it. */
export type DeltaOp = DeltaChange & { attributes?: Attributes }

export interface DeltaReader {
  /** The delta of an event on the reader's text. Call it for every event, during the event. */
  read(event: Y.YTextEvent): DeltaOp[]
  /** How many events took the fast path and how many Yjs's delta (for tests and benchmarks). */
  readonly stats: { fast: number; full: number }
}

/** Items between checkpoints. */
const SPACING = 64
/** Items walked (in each direction) from a run to a checkpoint before giving up. */
const MAX_WALK = 8 * SPACING
/** Changed items handled without Yjs's delta. */
const MAX_CHANGED = 4_096
/** Past this many checkpoints (many far edits) they are placed again at the next full read. */
const MAX_CHECKPOINTS = 50_000

/** An item whose index (visible characters before its start) and attributes are known. */
interface Checkpoint {
  item: Y.Item
  index: number
  /** The attributes in effect just before the item (what its characters carry). */
  readonly attributes: Attributes
}

/** A maximal run of this text's items that the transaction inserted, or deleted. */
interface Run {
  readonly kind: 'insert' | 'delete'
  readonly items: Y.Item[]
  /** Visible characters before the run, before the transaction. */
  index: number
  attributes: Attributes
}

interface Changed {
  readonly inserted: Set<Y.Item>
  readonly deleted: Set<Y.Item>
}

const isText = (item: Y.Item) =>
  item.content instanceof Y.ContentString || item.content instanceof Y.ContentEmbed
const isFormat = (item: Y.Item) => item.content instanceof Y.ContentFormat

const visible = (item: Y.Item) => (item.countable && !item.deleted ? item.length : 0)

const applyFormat = (attributes: Map<string, unknown>, { key, value }: Y.ContentFormat) => {
  if (value === null) attributes.delete(key)
  else attributes.set(key, value)
}

const contains = (item: Y.Item, client: number, clock: number) =>
  item.id.client === client && item.id.clock <= clock && clock < item.id.clock + item.length

export const createDeltaReader = (ytext: Y.Text): DeltaReader => {
  let checkpoints: Checkpoint[] = []
  let byItem = new WeakMap<Y.Item, Checkpoint>()
  /** Whether checkpoints were placed (after the first event, read in full). */
  let placed = false
  const stats = { fast: 0, full: 0 }

  // A sequence item of this text (the text's own attributes, `setAttribute`, are map entries).
  const isCharacter = (item: Y.Item) => item.parent === ytext && item.parentSub === null
  const linked = (item: Y.Item) =>
    item.left === null ? ytext._start === item : item.left.right === item

  const addCheckpoint = (item: Y.Item, index: number, attributes: Attributes) => {
    const checkpoint = { item, index, attributes }
    checkpoints.push(checkpoint)
    byItem.set(item, checkpoint)
  }
  /** Places checkpoints through the whole text (after a full read: the text is as it is now). */
  const place = () => {
    checkpoints = []
    byItem = new WeakMap()
    let index = 0
    let k = 0
    const attributes = new Map<string, unknown>()
    for (let item = ytext._start; item !== null; item = item.right, k++) {
      if (k % SPACING === 0) addCheckpoint(item, index, Object.fromEntries(attributes))
      index += visible(item)
      if (!item.deleted && item.content instanceof Y.ContentFormat) {
        applyFormat(attributes, item.content)
      }
    }
    placed = true
  }

  /** The items of this text the transaction inserted (and kept) and deleted, or undefined. */
  const changedItems = (transaction: Y.Transaction): Changed | undefined => {
    const store = transaction.doc.store
    const inserted = new Set<Y.Item>()
    const deleted = new Set<Y.Item>()
    for (const [client, after] of transaction.afterState) {
      const before = transaction.beforeState.get(client) ?? 0
      if (after <= before) continue
      const structs = store.clients.get(client)
      if (structs === undefined) return undefined
      for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
        const struct = structs[i] as Y.Item | Y.GC
        if (struct.id.clock >= after) break
        // Inserted and deleted by the same transaction: not in the delta.
        if (struct instanceof Y.Item && isCharacter(struct) && !struct.deleted) {
          inserted.add(struct)
          if (inserted.size > MAX_CHANGED) return undefined
        }
      }
    }
    for (const [client, ranges] of transaction.deleteSet.clients) {
      const before = transaction.beforeState.get(client) ?? 0
      const structs = store.clients.get(client)
      if (structs === undefined) return undefined
      for (const { clock, len } of ranges) {
        const end = Math.min(clock + len, before)
        if (clock >= end) continue
        for (let i = Y.findIndexSS(structs, clock); i < structs.length; i++) {
          const struct = structs[i] as Y.Item | Y.GC
          if (struct.id.clock >= end) break
          if (struct instanceof Y.Item && isCharacter(struct)) {
            deleted.add(struct)
            if (deleted.size > MAX_CHANGED) return undefined
          }
        }
      }
    }
    return { inserted, deleted }
  }

  /**
   * The changed items as maximal runs, or undefined when something other than text changed.
   * Between the characters of one run lie only characters that are invisible before and after
   * the transaction, and, between deleted ones, formats (which a delete's delta does not name).
   */
  const runsOf = ({ inserted, deleted }: Changed): Run[] | undefined => {
    const runs: Run[] = []
    for (const [kind, members] of [
      ['insert', inserted],
      ['delete', deleted],
    ] as const) {
      const between = (item: Y.Item) =>
        !members.has(item) &&
        (kind === 'insert' ? item.deleted && !deleted.has(item) : visible(item) === 0) &&
        (kind === 'delete' || !isFormat(item))
      for (const item of members) {
        if (!isText(item)) return undefined
        let left = item.left
        while (left !== null && between(left)) left = left.left
        if (left !== null && members.has(left)) continue // not the start of its run
        const items: Y.Item[] = []
        for (let next: Y.Item | null = item; next !== null; next = next.right) {
          if (members.has(next)) items.push(next)
          else if (!between(next)) break
        }
        runs.push({ kind, items, index: 0, attributes: {} })
      }
    }
    return runs
  }

  /** Items the last {@link indexOf} walked. */
  let walked = 0
  /** Visible characters before `target` before the transaction, from the nearest checkpoint. */
  const indexOf = (target: Y.Item, { inserted, deleted }: Changed): number | undefined => {
    const before = (item: Y.Item) =>
      inserted.has(item) ? 0 : deleted.has(item) ? item.length : visible(item)
    let right: Y.Item | null = target
    let rightCount = 0
    let left: Y.Item | null = target.left
    let leftCount = 0
    for (let steps = 0; steps < MAX_WALK; steps++) {
      walked = steps
      if (right === null) {
        // The end: the text's length before the transaction.
        let length = ytext.length
        for (const item of inserted) length -= item.length
        for (const item of deleted) length += item.length
        return length - rightCount
      }
      const atRight = byItem.get(right)
      if (atRight !== undefined) return atRight.index - rightCount
      rightCount += before(right)
      right = right.right
      if (left === null) return leftCount
      leftCount += before(left)
      const atLeft = byItem.get(left)
      if (atLeft !== undefined) return atLeft.index + leftCount
      left = left.left
    }
    return undefined
  }

  /**
   * Attributes in effect at the start of an inserted run: those of the nearest checkpoint on its
   * left, updated by the format items in between (undefined when none is near).
   */
  const attributesAt = (first: Y.Item): Attributes | undefined => {
    if (!ytext._hasFormatting) return {}
    const formats: Y.ContentFormat[] = []
    let item = first.left
    for (let steps = 0; item !== null; steps++) {
      if (steps >= MAX_WALK) return undefined
      if (!item.deleted && item.content instanceof Y.ContentFormat) formats.push(item.content)
      if (byItem.has(item)) break
      item = item.left
    }
    const attributes = new Map(
      Object.entries(item === null ? {} : (byItem.get(item)?.attributes ?? {})),
    )
    for (const format of formats.reverse()) applyFormat(attributes, format)
    return Object.fromEntries(attributes)
  }

  const insertOps = ({ items, attributes }: Run): DeltaOp[] => {
    const ops: DeltaOp[] = []
    const withAttributes = (op: DeltaOp): DeltaOp =>
      Object.keys(attributes).length > 0 ? { ...op, attributes: { ...attributes } } : op
    let text = ''
    for (const item of items) {
      if (item.content instanceof Y.ContentString) text += item.content.str
      else {
        if (text.length > 0) ops.push(withAttributes({ insert: text }))
        text = ''
        ops.push(withAttributes({ insert: (item.content as Y.ContentEmbed).embed }))
      }
    }
    if (text.length > 0) ops.push(withAttributes({ insert: text }))
    return ops
  }

  /**
   * Yjs merges an item into the one on its left after a transaction (consecutive characters of
   * one client): a checkpoint on a merged item moves to the item that took it in.
   */
  const repairCheckpoints = () => {
    const kept: Checkpoint[] = []
    for (const checkpoint of checkpoints) {
      const { item } = checkpoint
      if (linked(item)) {
        kept.push(checkpoint)
        continue
      }
      byItem.delete(item)
      const into = item.left
      if (into === null || !linked(into) || !contains(into, item.id.client, item.id.clock - 1)) {
        continue
      }
      if (byItem.has(into)) continue
      checkpoint.index -= visible(into) > 0 ? item.id.clock - into.id.clock : 0
      checkpoint.item = into
      byItem.set(into, checkpoint)
      kept.push(checkpoint)
    }
    checkpoints = kept
  }

  /**
   * Moves the checkpoints across the event's runs (sorted, before-transaction indexes). A
   * checkpoint exactly where text was inserted may lie on either side of it: it is dropped.
   */
  const shiftCheckpoints = (runs: readonly Run[]) => {
    const kept: Checkpoint[] = []
    for (const checkpoint of checkpoints) {
      const { item } = checkpoint
      const at = checkpoint.index
      let shift = 0
      let ambiguous = false
      for (const run of runs) {
        if (run.index > at) break
        const length = run.items.reduce((sum, member) => sum + member.length, 0)
        if (run.kind === 'insert') {
          if (run.index === at) ambiguous = true
          shift += length
        } else shift -= Math.min(length, at - run.index)
      }
      if (ambiguous) {
        byItem.delete(item)
        continue
      }
      checkpoint.index = at + shift
      kept.push(checkpoint)
    }
    checkpoints = kept
  }

  const fast = (event: Y.YTextEvent): DeltaOp[] | undefined => {
    if (!placed) return undefined
    const changed = changedItems(event.transaction)
    if (changed === undefined) return undefined
    if (changed.inserted.size === 0 && changed.deleted.size === 0) return []
    const runs = runsOf(changed)
    if (runs === undefined) return undefined
    repairCheckpoints()
    let far = false
    for (const run of runs) {
      const first = run.items[0] as Y.Item
      const index = indexOf(first, changed)
      if (index === undefined) return undefined
      far ||= walked > SPACING / 2
      run.index = index
      if (run.kind === 'insert') {
        const attributes = attributesAt(first)
        if (attributes === undefined) return undefined
        run.attributes = attributes
      }
    }
    // At one index, inserted text lies before deleted text (after it, its index would be past
    // the deleted characters); two inserts at one index have an order the indexes do not tell.
    runs.sort((a, b) => a.index - b.index || (a.kind === b.kind ? 0 : a.kind === 'insert' ? -1 : 1))
    const ops: DeltaOp[] = []
    let at = 0
    let previous: Run | undefined
    for (const run of runs) {
      if (run.index < at) return undefined
      if (run.index === previous?.index && run.kind === 'insert') return undefined
      previous = run
      if (run.index > at) ops.push({ retain: run.index - at })
      at = run.index
      if (run.kind === 'insert') ops.push(...insertOps(run))
      else {
        const length = run.items.reduce((sum, item) => sum + item.length, 0)
        ops.push({ delete: length })
        at += length
      }
    }
    shiftCheckpoints(runs)
    // Where the text changes far from any checkpoint, add one, so that the next edit there finds
    // it near.
    let shift = 0
    for (const run of runs) {
      const first = run.items[0] as Y.Item
      if (run.kind === 'insert') {
        if (far && !byItem.has(first)) addCheckpoint(first, run.index + shift, run.attributes)
        shift += run.items.reduce((sum, item) => sum + item.length, 0)
      } else shift -= run.items.reduce((sum, item) => sum + item.length, 0)
    }
    if (checkpoints.length > MAX_CHECKPOINTS) placed = false
    return ops
  }

  const full = (event: Y.YTextEvent): DeltaOp[] => {
    const delta = event.delta as DeltaOp[]
    place()
    return delta
  }

  return {
    stats,
    read(event) {
      const delta = fast(event)
      if (delta !== undefined) {
        stats.fast++
        return delta
      }
      stats.full++
      return full(event)
    },
  }
}

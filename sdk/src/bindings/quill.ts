/**
 * Binds a Quill 2 editor to a shared `Y.Text` with y-quill's `QuillBinding`, so Coedit pages
 * interoperate with stock y-quill peers (the model is Quill-Delta semantics on `Y.Text`, shared
 * with the contenteditable binding). On top of y-quill this module adds what it lacks:
 *
 * - **Undo (R7).** Quill's history module would also undo remote edits. Its recording is switched
 *   off and Ctrl/Cmd+Z, Ctrl/Cmd+Shift+Z, Ctrl/Cmd+Y, `quill.history.undo()/redo()` (toolbar
 *   handlers) and the `historyUndo`/`historyRedo` input events all go to a `Y.UndoManager` that
 *   tracks only this binding's origin (the `QuillBinding` instance).
 * - **Remote cursors** without configuring the editor: if the instance has no `cursors` module,
 *   `quill-cursors` is loaded on first use and constructed on the instance (so it must not be
 *   imported statically: its UMD bundle reads `self` at load and would break Node imports).
 *   Names and colours from remote awareness states are sanitised before they reach it.
 * - **Seeding (R9).** Page content present at bind time is written by the deterministic seed
 *   author (`seed.ts`), so two users binding at once produce it once.
 *
 * Untrusted content (R31): Quill renders only through its registered formats and sanitises URLs
 * itself (Link: http, https, mailto, tel, sms, anything else becomes `about:blank`; Image: http,
 * https, data). Nothing here builds HTML; the browser test feeds a hostile peer's raw `Y.Text`.
 *
 * The SDK never bundles Quill: only its types are imported; the page brings the editor.
 */
import type Quill from 'quill'
import type { Awareness } from 'y-protocols/awareness'
import { QuillBinding } from 'y-quill'
import * as Y from 'yjs'
import { CoeditError } from '../protocol/errors.js'
import { seedFieldName, seedText, type DeltaInsert } from './seed.js'

export interface BindQuillOptions {
  /** Publishes this user's selection and draws remote cursors (y-quill's `cursor` field). */
  readonly awareness?: Awareness
  /**
   * Undo manager to register this binding's origin with, e.g. `session.undoManager(ytext)`.
   * Default: a new one for `ytext` (capture timeout 500 ms), destroyed with the binding.
   */
  readonly undoManager?: Y.UndoManager
  /** Seed `ytext` from the editor's content when `ytext` is empty at bind time. Default true. */
  readonly seed?: boolean
  /** `ytext`'s top-level name in its document (`doc.getText(field)`). Default: looked up. */
  readonly field?: string
}

export interface QuillBindingHandle {
  /** The undo manager that Ctrl/Cmd+Z uses (the given one, or the binding's own). */
  readonly undoManager: Y.UndoManager
  /** Unbinds: removes every listener, key binding and override; idempotent. */
  destroy(): void
}

/** The subset of quill-cursors that y-quill calls. */
interface CursorSink {
  createCursor(id: string, name: string, color: string): unknown
  moveCursor(id: string, range: { index: number; length: number }): void
  removeCursor(id: string): void
}

/** Binds `quill` to `ytext` until `destroy()`. Throws at once on misuse. */
export const bindQuill = (
  ytext: Y.Text,
  quill: Quill,
  options: BindQuillOptions = {},
): QuillBindingHandle => {
  const doc = ytext.doc
  if (doc === null) {
    throw new CoeditError('misuse', 'bindQuill: ytext must belong to a Y.Doc (session.getText)')
  }
  const { awareness } = options
  const restore: (() => void)[] = []

  if (options.seed !== false)
    seedFromEditor(ytext, quill, seedFieldName(ytext, options.field, 'bindQuill'))

  const cursors = awareness === undefined ? undefined : createCursorRelay(quill)
  // y-quill reads the module once, in its constructor: hand it the sanitising relay instead.
  const binding =
    cursors === undefined
      ? new QuillBinding(ytext, quill)
      : withOverride(quill, 'getModule', moduleOverride(quill, cursors.sink), () => {
          return new QuillBinding(ytext, quill, awareness)
        })

  const ownsUndoManager = options.undoManager === undefined
  const undoManager =
    options.undoManager ??
    new Y.UndoManager(ytext, { captureTimeout: 500, trackedOrigins: new Set([binding]) })
  if (!ownsUndoManager) undoManager.addTrackedOrigin(binding)

  const undo = () => {
    undoManager.undo()
    return false
  }
  const redo = () => {
    undoManager.redo()
    return false
  }
  // Quill's history: no recording (it would capture remote edits), undo/redo are ours. Its own
  // key bindings were bound to the prototype methods at construction, so ours go first.
  const history = quill.history
  history.clear()
  restore.push(
    override(history, 'record', () => undefined),
    override(history, 'transform', () => undefined),
    override(history, 'undo', () => void undo()),
    override(history, 'redo', () => void redo()),
    prependKeyBinding(quill, { key: 'z', shortKey: true, shiftKey: false }, undo),
    prependKeyBinding(quill, { key: ['z', 'Z'], shortKey: true, shiftKey: true }, redo),
    prependKeyBinding(quill, { key: 'y', shortKey: true, shiftKey: false }, redo),
  )

  let destroyed = false
  return {
    undoManager,
    destroy() {
      if (destroyed) return
      destroyed = true
      binding.destroy()
      for (const undoRestore of restore.splice(0).reverse()) undoRestore()
      if (ownsUndoManager) undoManager.destroy()
      else undoManager.removeTrackedOrigin(binding)
      cursors?.destroy()
      // Peers would otherwise keep drawing our caret in a text we no longer edit.
      if (awareness?.getLocalState()?.['cursor'] != null) {
        awareness.setLocalStateField('cursor', null)
      }
    },
  }
}

/** Writes the editor's current content as the deterministic seed if `ytext` is still empty. */
const seedFromEditor = (ytext: Y.Text, quill: Quill, field: string): void => {
  if (ytext.length > 0) return
  const ops: readonly DeltaOp[] = quill.getContents().ops
  // Embeds (`{ insert: { image } }`) go through too: Y.Text applies them and the seed hash
  // covers their JSON; `DeltaInsert` only names the text case.
  const content = ops
    .filter((op) => op.insert !== undefined)
    .map((op) => ({
      insert: op.insert,
      ...(op.attributes === undefined ? {} : { attributes: op.attributes }),
    })) as DeltaInsert[]
  // Quill's final newline is implicit in y-quill's model (typing never inserts it), unless it
  // carries a line format. Y.Text's `applyDelta` does not strip it (yjs 13.6 inverts `sanitize`).
  const last = content.at(-1)
  if (last !== undefined && last.attributes === undefined && typeof last.insert === 'string') {
    const insert = last.insert.replace(/\n$/, '')
    if (insert.length > 0) content[content.length - 1] = { insert }
    else content.pop()
  }
  if (content.length === 0) return
  // Not the binding's origin: the page's text is nobody's edit, so undo never removes it.
  seedText(ytext, field, content, SEED_ORIGIN)
}

interface DeltaOp {
  readonly insert?: unknown
  readonly attributes?: Readonly<Record<string, unknown>>
}

/** The transaction origin of seeds written by this binding. */
export const SEED_ORIGIN = Symbol('coedit.bindQuill.seed')

const moduleOverride =
  (quill: Quill, sink: CursorSink) =>
  (name: string): unknown =>
    name === 'cursors' ? sink : Reflect.apply(Object.getPrototypeOf(quill).getModule, quill, [name])

/**
 * The cursor sink y-quill draws into. It keeps each remote cursor's latest state, so cursors
 * reported before quill-cursors finished loading are drawn once it has; it forwards to the
 * instance's own `cursors` module when configured (`modules: { cursors: true }`).
 */
const createCursorRelay = (quill: Quill) => {
  const states = new Map<string, { name: string; color: string; range?: CursorRange }>()
  let target: CursorSink | undefined
  let created: QuillCursorsInstance | undefined
  let destroyed = false

  const draw = (id: string) => {
    const state = states.get(id)
    if (target === undefined || state === undefined) return
    target.createCursor(id, state.name, state.color)
    if (state.range !== undefined) target.moveCursor(id, state.range)
  }
  const attach = (sink: CursorSink) => {
    target = sink
    for (const id of states.keys()) draw(id)
  }

  const own = Reflect.apply(Object.getPrototypeOf(quill).getModule, quill, ['cursors']) as
    CursorSink | undefined
  if (own !== undefined && own !== null) attach(own)
  else {
    void import('quill-cursors').then(
      (module) => {
        if (destroyed) return
        const Cursors = cursorsClass(module)
        const QuillClass = quill.constructor as typeof Quill
        if (QuillClass.imports['modules/cursors'] === undefined) {
          QuillClass.register('modules/cursors', Cursors)
        }
        created = new Cursors(quill, { transformOnTextChange: true })
        attach(created)
      },
      (error: unknown) => console.error('coedit: quill-cursors failed to load', error),
    )
  }

  const sink: CursorSink = {
    createCursor(id, name, color) {
      const previous = states.get(id)
      states.set(id, {
        name: String(name).slice(0, MAX_NAME),
        color: SAFE_COLOR.test(String(color)) ? color : FALLBACK_COLOR,
        ...(previous?.range === undefined ? {} : { range: previous.range }),
      })
      draw(id)
      return undefined
    },
    moveCursor(id, range) {
      const state = states.get(id)
      if (state === undefined) return
      state.range = { index: range.index, length: range.length }
      target?.moveCursor(id, state.range)
    },
    removeCursor(id) {
      if (!states.delete(id)) return
      target?.removeCursor(id)
    },
  }
  return {
    sink,
    destroy() {
      destroyed = true
      for (const id of [...states.keys()]) sink.removeCursor(id)
      created?.destroy()
      target = undefined
    },
  }
}

interface CursorRange {
  index: number
  length: number
}

const MAX_NAME = 64
const SAFE_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i
const FALLBACK_COLOR = '#ffa500'

/** quill-cursors is a UMD bundle: depending on the bundler, `default` is the class or wraps it. */
/** What this module uses of quill-cursors (its CommonJS typings do not resolve under NodeNext). */
interface QuillCursorsInstance extends CursorSink {
  destroy(): void
}
type QuillCursorsClass = new (
  quill: Quill,
  options?: { transformOnTextChange?: boolean },
) => QuillCursorsInstance

const cursorsClass = (module: unknown): QuillCursorsClass => {
  let value = module
  for (let depth = 0; depth < 3 && typeof value !== 'function'; depth++) {
    value = (value as { default?: unknown } | null)?.default
  }
  if (typeof value !== 'function') throw new Error('quill-cursors exports no class')
  return value as unknown as QuillCursorsClass
}

/** Sets `target[key]` as an own property; the returned function puts back what was there. */
const override = <T extends object, K extends keyof T>(target: T, key: K, value: T[K]) => {
  const previous = Object.getOwnPropertyDescriptor(target, key)
  Object.defineProperty(target, key, { value, configurable: true, writable: true })
  return () => {
    if (previous === undefined) Reflect.deleteProperty(target, key)
    else Object.defineProperty(target, key, previous)
  }
}

/** Runs `run` with `target[key]` overridden, then restores it. */
const withOverride = <T extends object, K extends keyof T, R>(
  target: T,
  key: K,
  value: unknown,
  run: () => R,
): R => {
  const undoOverride = override(target, key, value as T[K])
  try {
    return run()
  } finally {
    undoOverride()
  }
}

type KeyHandler = () => boolean
type KeyboardBindings = Record<string, unknown[]>

/**
 * Adds a Quill key binding ahead of the existing ones for its keys (Quill runs the first match
 * that does not return true, so Quill's history bindings never see the key). Returns its removal.
 */
const prependKeyBinding = (
  quill: Quill,
  binding: { key: string | string[]; shortKey: true; shiftKey: boolean },
  handler: KeyHandler,
): (() => void) => {
  const bindings = quill.keyboard.bindings as unknown as KeyboardBindings
  const keys = Array.isArray(binding.key) ? binding.key : [binding.key]
  const before = new Map(keys.map((key) => [key, bindings[key]?.length ?? 0]))
  quill.keyboard.addBinding(binding, handler)
  const added: { key: string; entry: unknown }[] = []
  for (const key of keys) {
    const list = bindings[key] ?? []
    const fresh = list.splice(before.get(key) ?? 0)
    list.unshift(...fresh)
    bindings[key] = list
    for (const entry of fresh) added.push({ key, entry })
  }
  return () => {
    for (const { key, entry } of added) {
      const list = bindings[key]
      const index = list?.indexOf(entry) ?? -1
      if (index >= 0) list?.splice(index, 1)
    }
  }
}

/**
 * Finds the page's own Quill instance for an element, from the main world (the only world that
 * can see it). What it finds is the page's object, so it is checked for the methods the bridge
 * calls rather than trusted to be a Quill: the page is untrusted, but it can only ever hurt its
 * own editor through it.
 *
 * Where instances live: Quill 2 keeps them in a module-private WeakMap behind `Quill.find(node)`
 * (reachable only if the page exposes `window.Quill`, as script-tag builds do); Quill 1 also sets
 * `container.__quill`. A bundled Quill 2 that is not on `window` cannot be found from outside:
 * the content script then falls back to its contenteditable binding.
 */

/** The page's `window`, with its own DOM constructors (for `instanceof` in its realm). */
export type PageWindow = Window & typeof globalThis

/** A Quill-Delta instance as the page's Quill returns them (its own `quill-delta` class). */
export interface PageDelta {
  readonly ops: readonly unknown[]
  compose(other: PageDelta): PageDelta
  transform(other: PageDelta, priority: boolean): PageDelta
  diff(other: PageDelta): PageDelta
  length(): number
}

/** The Quill-Delta class, constructed from ops. */
export type PageDeltaClass = new (ops?: readonly unknown[]) => PageDelta

interface BoundsLike {
  readonly left: number
  readonly top: number
  readonly width: number
  readonly height: number
}

/** The subset of a Quill 1/2 instance the bridge uses. */
export interface PageQuill {
  readonly root: HTMLElement
  readonly container: HTMLElement
  readonly scroll?: { query?(name: string, scope: number): unknown }
  on(event: string, handler: (...args: never[]) => void): unknown
  off(event: string, handler: (...args: never[]) => void): unknown
  update(source: string): unknown
  updateContents(delta: PageDelta, source: string): PageDelta
  setContents(delta: PageDelta, source: string): PageDelta
  getContents(): PageDelta
  getLength(): number
  getSelection(): { index: number; length: number } | null
  getBounds(index: number, length: number): BoundsLike | null
  getLines(index: number, length: number): unknown[]
  getIndex(blot: unknown): number
  getModule(name: string): unknown
}

const METHODS = [
  'on',
  'off',
  'update',
  'updateContents',
  'setContents',
  'getContents',
  'getLength',
  'getSelection',
  'getBounds',
  'getLines',
  'getIndex',
  'getModule',
] as const

const isPageQuill = (value: unknown, win: PageWindow): value is PageQuill => {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return (
    METHODS.every((name) => typeof candidate[name] === 'function') &&
    candidate['root'] instanceof win.HTMLElement &&
    candidate['container'] instanceof win.HTMLElement
  )
}

/** `Quill.find(node)` if the page exposes its Quill class; Quill 2 returns blots for non-roots. */
const findWithGlobal = (win: PageWindow, node: Element): unknown => {
  try {
    const QuillClass = Reflect.get(win, 'Quill') as { find?: unknown } | undefined
    if (typeof QuillClass?.find !== 'function') return undefined
    return Reflect.apply(QuillClass.find, QuillClass, [node])
  } catch (error) {
    // A page-defined getter or `find` that throws: treat as no Quill, but say why.
    console.warn('coedit: the page’s Quill.find failed', error)
    return undefined
  }
}

/**
 * The page's Quill for `element` — the element itself, the `.ql-container` around it (when the
 * picked element is the `.ql-editor`), or the only `.ql-container` inside it — or `undefined`.
 */
export const findQuill = (win: PageWindow, element: Element): PageQuill | undefined => {
  const inner = element.querySelectorAll('.ql-container')
  const candidates = new Set<Element>([element])
  const around = element.closest('.ql-container')
  if (around !== null) candidates.add(around)
  if (inner.length === 1 && inner[0] !== undefined) candidates.add(inner[0])
  for (const node of candidates) {
    for (const found of [findWithGlobal(win, node), Reflect.get(node, '__quill')]) {
      if (!isPageQuill(found, win)) continue
      // The instance must be the editor the content script picked, not some other one.
      const { root } = found
      if (root === element || root.contains(element) || element.contains(root)) return found
    }
  }
  return undefined
}

/** The page's Quill-Delta class: the constructor of what `getContents()` returns. */
export const deltaClassOf = (quill: PageQuill): PageDeltaClass | undefined => {
  const DeltaClass = (quill.getContents() as { constructor?: unknown }).constructor
  if (typeof DeltaClass !== 'function') return undefined
  const prototype = (DeltaClass as { prototype?: Record<string, unknown> }).prototype
  const usable = ['compose', 'transform', 'diff', 'length'].every(
    (name) => typeof prototype?.[name] === 'function',
  )
  return usable ? (DeltaClass as PageDeltaClass) : undefined
}

/** Parchment's `Scope.BLOT` (same value in Parchment 1 and 3). */
const SCOPE_BLOT = 14

/**
 * Whether `name` is a blot the page's Quill can create. Quill throws mid-update on unknown embeds
 * and leaves its scroll in batch mode, so unknown ones never reach it. `true` when it cannot tell.
 */
export const isKnownBlot = (quill: PageQuill, name: string): boolean => {
  if (typeof quill.scroll?.query === 'function') return quill.scroll.query(name, SCOPE_BLOT) != null
  const QuillClass = (quill as { constructor?: { import?: (name: string) => unknown } }).constructor
  const parchment = QuillClass?.import?.('parchment') as
    { query?: (name: string, scope: number) => unknown } | undefined
  if (typeof parchment?.query === 'function') return parchment.query(name, SCOPE_BLOT) != null
  return true
}

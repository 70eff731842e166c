/**
 * The registry of bound fields of one Coedit instance: explicit `bind(element, fieldId)` calls,
 * and — once `watch()` is called — every `[data-coedit="<field-id>"]` element in the document,
 * now and as the page adds, removes or re-marks them (one MutationObserver on the document).
 *
 * Editors rewrite their own DOM on every keystroke, so mutation records from inside a bound
 * element are not scanned for new fields. A field that changes `type` or `autocomplete` into
 * something refused (a "show password" toggle flips a text input back to a password) is unbound.
 * Refused fields are reported once each through `warn`, naming the field; the script never
 * throws at the page for markup it cannot bind. While watching, an element removed from the page
 * is unbound whether it was marked or passed to `bind()` (a detached field edits nothing).
 */
import { CoeditError } from '../protocol/errors.js'
import { bindField, type FieldSession } from './bind-field.js'
import { fieldTarget, isRefusal, type FieldKind } from './field-kind.js'

/** One bound element; `destroy()` unbinds it (idempotent). */
export interface Binding {
  /** The element that was bound (for a `.ql-editor`, the element marked, not its container). */
  readonly element: HTMLElement
  readonly fieldId: string
  readonly kind: FieldKind
  destroy(): void
}

export interface FieldBindings {
  /**
   * Binds `element` to `session.getText(fieldId)`; rebinds it if it was bound to another field.
   * Throws `CoeditError` (code `misuse`) naming the reason when the element cannot be bound.
   */
  bind(element: HTMLElement, fieldId: string): Binding
  /** Unbinds `element` if bound; the element keeps its current content. */
  unbind(element: HTMLElement): void
  /** The current bindings, in binding order. */
  bindings(): readonly Binding[]
  /** Binds every `[data-coedit]` element and keeps doing so as the document changes. */
  watch(): void
  /** Unbinds everything and stops watching. Idempotent. */
  destroy(): void
}

export interface FieldBindingsOptions {
  readonly session: FieldSession
  readonly document: Document
  /** Reports a marked element that is not bound. Default `console.warn`. */
  readonly warn?: (message: string) => void
}

export const FIELD_ATTRIBUTE = 'data-coedit'
const SELECTOR = `[${FIELD_ATTRIBUTE}]`
/** Attributes whose change can make a bound field one that must be refused. */
const KIND_ATTRIBUTES = ['type', 'autocomplete']

// Node types, not `instanceof`: the document may belong to another window (an iframe).
const ELEMENT_NODE = 1
const DOCUMENT_NODE = 9
const isElement = (node: Node): node is Element => node.nodeType === ELEMENT_NODE

interface Entry {
  readonly binding: Binding
  readonly release: () => void
  /** Bound because of its `data-coedit` mark (it follows the mark), not by `bind()`. */
  readonly marked: boolean
}

export const createFieldBindings = (options: FieldBindingsOptions): FieldBindings => {
  const { session, document: page } = options
  const warn = options.warn ?? ((message: string) => console.warn(message))
  const entries = new Map<Element, Entry>()
  /** Marked elements waiting for the page's Quill to create their editor. */
  const waiting = new Set<Element>()
  /** Elements already reported (field id and reason), so a retry does not repeat the warning. */
  const reported = new WeakMap<Element, string>()
  let observer: MutationObserver | undefined
  let destroyed = false

  const release = (element: Element) => {
    const entry = entries.get(element)
    if (entry === undefined) return
    entries.delete(element)
    entry.release()
  }

  const attach = (element: HTMLElement, fieldId: string, marked: boolean): Binding | string => {
    const target = fieldTarget(element)
    if (isRefusal(target)) {
      if (marked && target.retry) waiting.add(element)
      return target.refused
    }
    waiting.delete(element)
    const destroyBinding = bindField(session, target, fieldId)
    reported.delete(element)
    const binding: Binding = {
      element,
      fieldId,
      kind: target.kind,
      destroy() {
        if (entries.get(element)?.binding === binding) release(element)
      },
    }
    entries.set(element, { binding, release: destroyBinding, marked })
    return binding
  }

  const report = (element: Element, fieldId: string, reason: string) => {
    const key = `${fieldId}\n${reason}`
    if (reported.get(element) === key) return
    reported.set(element, key)
    warn(`coedit: not binding field "${fieldId}": ${reason}`)
  }

  /** Binds a marked element (or keeps its binding); problems are reported, never thrown. */
  const bindMarked = (element: Element) => {
    const fieldId = element.getAttribute(FIELD_ATTRIBUTE) ?? ''
    const entry = entries.get(element)
    if (entry !== undefined && (!entry.marked || entry.binding.fieldId === fieldId)) return
    release(element)
    if (fieldId === '') {
      waiting.delete(element)
      return report(element, fieldId, `${FIELD_ATTRIBUTE} needs a field id`)
    }
    const view = page.defaultView
    if (view === null || !(element instanceof view.HTMLElement)) {
      return report(element, fieldId, 'it is not an HTML element')
    }
    try {
      const result = attach(element, fieldId, true)
      if (typeof result === 'string') report(element, fieldId, result)
    } catch (error) {
      waiting.delete(element)
      report(element, fieldId, error instanceof Error ? error.message : String(error))
    }
  }

  const scan = (root: Node) => {
    if (isElement(root) && root.matches(SELECTOR)) bindMarked(root)
    if (isElement(root) || root.nodeType === DOCUMENT_NODE) {
      for (const element of (root as ParentNode).querySelectorAll(SELECTOR)) bindMarked(element)
    }
  }

  /** The bound element `node` is in, if any: editors' own DOM changes are not page changes. */
  const insideBound = (node: Node) => {
    const element = isElement(node) ? node : node.parentElement
    const marked = element?.closest(SELECTOR)
    return marked != null && entries.has(marked)
  }

  const onAttribute = (element: Element, name: string | null) => {
    const entry = entries.get(element)
    if (name === FIELD_ATTRIBUTE) {
      if (entry !== undefined && !entry.marked) return
      if (element.hasAttribute(FIELD_ATTRIBUTE)) bindMarked(element)
      else {
        release(element)
        waiting.delete(element)
      }
      return
    }
    if (entry === undefined) return
    const target = fieldTarget(element)
    if (!isRefusal(target)) return
    release(element)
    report(element, entry.binding.fieldId, target.refused)
  }

  const onMutations = (records: readonly MutationRecord[]) => {
    const added: Node[] = []
    let removed = false
    for (const record of records) {
      if (record.type === 'attributes') {
        onAttribute(record.target as Element, record.attributeName)
        continue
      }
      if (record.removedNodes.length > 0) removed = true
      if (record.addedNodes.length > 0 && !insideBound(record.target)) {
        added.push(...record.addedNodes)
      }
    }
    if (removed) {
      // Checked after the whole batch: a node moved elsewhere is removed and re-added in it.
      for (const element of [...entries.keys()]) if (!element.isConnected) release(element)
      for (const element of [...waiting]) if (!element.isConnected) waiting.delete(element)
    }
    for (const node of added) if (node.isConnected) scan(node)
    for (const element of [...waiting]) bindMarked(element)
  }

  return {
    bind(element, fieldId) {
      if (destroyed) {
        throw new CoeditError('misuse', 'bind(): this Coedit instance was destroyed; start another')
      }
      if (typeof fieldId !== 'string' || fieldId === '') {
        throw new CoeditError(
          'misuse',
          'bind(element, fieldId): fieldId must be a non-empty string',
        )
      }
      const view = page.defaultView
      if (view === null || !(element instanceof view.HTMLElement)) {
        throw new CoeditError('misuse', 'bind(element, fieldId): element must be an HTMLElement')
      }
      const entry = entries.get(element)
      if (entry !== undefined && entry.binding.fieldId === fieldId) return entry.binding
      release(element)
      const result = attach(element, fieldId, false)
      if (typeof result === 'string') {
        throw new CoeditError('misuse', `not binding field "${fieldId}": ${result}`)
      }
      return result
    },
    unbind(element) {
      release(element)
      waiting.delete(element)
    },
    bindings: () => [...entries.values()].map((entry) => entry.binding),
    watch() {
      if (destroyed || observer !== undefined) return
      const view = page.defaultView
      if (view === null) throw new CoeditError('misuse', 'watch(): the document has no window')
      observer = new view.MutationObserver(onMutations)
      observer.observe(page, {
        childList: true,
        subtree: true,
        attributes: true,
        attributeFilter: [FIELD_ATTRIBUTE, ...KIND_ATTRIBUTES],
      })
      scan(page)
    },
    destroy() {
      if (destroyed) return
      destroyed = true
      observer?.disconnect()
      observer = undefined
      waiting.clear()
      const failures: unknown[] = []
      for (const element of [...entries.keys()]) {
        try {
          release(element)
        } catch (error) {
          // One editor failing to let go must not keep the others bound.
          failures.push(error)
        }
      }
      if (failures.length > 0) {
        throw new AggregateError(failures, 'coedit: some bindings failed to unbind')
      }
    },
  }
}

/**
 * Which elements of a page the extension may share, and which it must never touch. The refusal
 * rules (password, hidden and non-text inputs; `autocomplete` marking card data, one-time codes
 * or passwords) are the script tag's, reused from the SDK so both refuse exactly the same fields.
 *
 * One difference from the script tag: a content script runs in an isolated world and never sees
 * the page's `window.Quill`, so a Quill editor is recognised by its markup alone — any editable
 * inside a `.ql-container` stands for that container (its `.ql-editor`, and Quill 1's hidden
 * `.ql-clipboard`), and the page's instance is reached later through the main-world bridge.
 */
import { fieldTarget, isRefusal, type FieldKind } from '../../../sdk/src/script/field-kind.js'

export type { FieldKind }

/** An element the extension can share, and how it is bound. */
export interface EditableField {
  readonly kind: FieldKind
  readonly element: HTMLElement
}

/** Everything that might be a field; `editableField` decides. */
const CANDIDATES = 'textarea, input, [contenteditable], .ql-container'

const QUILL_CONTAINER = 'ql-container'

const isEditableValue = (value: string | null) =>
  value !== null && ['', 'true', 'plaintext-only'].includes(value.toLowerCase())

/** Editable by its own attribute or inherited (happy-dom has no `isContentEditable` inheritance). */
const isEditable = (element: Element): boolean => {
  const value = element.getAttribute('contenteditable')
  if (value !== null) return isEditableValue(value)
  const parent = element.parentElement
  return parent !== null && isEditable(parent)
}

/**
 * Whether `autocomplete` on `element` marks a secret, by the SDK's rule. The rule is only
 * reachable through `fieldTarget`, which for a Quill container answers "no window.Quill" first
 * in this world; so it is asked about a detached probe carrying the same attribute (the probe is
 * never inserted: the page's DOM is not touched).
 */
const marksSecret = (element: HTMLElement): boolean => {
  const autocomplete = element.getAttribute('autocomplete')
  if (autocomplete === null) return false
  const probe = element.ownerDocument.createElement('div')
  probe.setAttribute('contenteditable', 'true')
  probe.setAttribute('autocomplete', autocomplete)
  return isRefusal(fieldTarget(probe))
}

/**
 * How `element` would be shared, or `undefined` when it must not (or cannot) be: sensitive and
 * non-text fields, disabled or read-only ones, and anything not editable. A `.ql-editor` (or any
 * element inside a Quill container) answers for its container; a contenteditable descendant
 * answers for its editing root.
 */
export const editableField = (element: Element): EditableField | undefined => {
  const view = element.ownerDocument.defaultView
  if (view === null || !(element instanceof view.HTMLElement)) return undefined

  const container = element.closest(`.${QUILL_CONTAINER}`)
  if (container instanceof view.HTMLElement) {
    return marksSecret(container) ? undefined : { kind: 'quill', element: container }
  }

  if (element instanceof view.HTMLTextAreaElement || element instanceof view.HTMLInputElement) {
    if (element.disabled || element.readOnly) return undefined
    const target = fieldTarget(element)
    return isRefusal(target) ? undefined : { kind: 'text-field', element }
  }

  if (!isEditable(element)) return undefined
  let root: HTMLElement = element
  while (root.parentElement !== null && isEditable(root.parentElement)) root = root.parentElement
  const target = fieldTarget(root)
  return isRefusal(target) || target.kind !== 'content-editable'
    ? undefined
    : { kind: 'content-editable', element: root }
}

/** Every field of `document` that may be shared, in document order, each once. */
export const findEditableFields = (document: Document): EditableField[] => {
  const seen = new Set<HTMLElement>()
  const fields: EditableField[] = []
  for (const candidate of Array.from(document.querySelectorAll(CANDIDATES))) {
    const field = editableField(candidate)
    if (field === undefined || seen.has(field.element)) continue
    seen.add(field.element)
    fields.push(field)
  }
  return fields
}

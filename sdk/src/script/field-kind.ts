/**
 * Decides how a `[data-coedit]` element is bound, or why it is not: a page author marks fields by
 * hand, but a wrong mark must never share a secret. Password, hidden, file and other non-text
 * inputs, and fields whose `autocomplete` says they hold card data or one-time codes, are refused
 * whatever their markup says.
 *
 * Quill is never imported: a Quill container is recognised by its class or by the page's own
 * `window.Quill.find(element)`, and bound to the instance the page created.
 */
import type Quill from 'quill'

/** How an element is bound. */
export type FieldKind = 'text-field' | 'quill' | 'content-editable'

export type FieldTarget =
  | { readonly kind: 'text-field'; readonly element: HTMLTextAreaElement | HTMLInputElement }
  | { readonly kind: 'quill'; readonly element: HTMLElement; readonly quill: Quill }
  | { readonly kind: 'content-editable'; readonly element: HTMLElement }

export interface FieldRefusal {
  /** Why the element is not bound, phrased to follow "not binding field "x": ". */
  readonly refused: string
  /**
   * The element may become bindable without any attribute change: a Quill container whose
   * editor the page has not created yet.
   */
  readonly retry: boolean
}

/** `<input type>`s whose value is free text, edited with a caret. */
const TEXT_INPUT_TYPES = new Set(['text', 'search', 'url', 'tel', 'email'])

/** `autocomplete` tokens (WHATWG autofill field names) that mark secrets. */
const isSecretToken = (token: string) =>
  token.startsWith('cc-') ||
  token === 'one-time-code' ||
  token === 'current-password' ||
  token === 'new-password'

/** The reason `autocomplete` marks the element as holding a secret, if it does. */
const secretAutocomplete = (element: Element): string | undefined => {
  const value = element.getAttribute('autocomplete')
  if (value === null) return undefined
  const secret = value.toLowerCase().split(/\s+/).find(isSecretToken)
  return secret === undefined ? undefined : `autocomplete="${secret}" marks a secret`
}

/** The page's Quill class, if it exposes one as `window.Quill` (the UMD build does). */
const pageQuill = (element: Element): typeof Quill | undefined => {
  const view = element.ownerDocument.defaultView as (Window & { Quill?: unknown }) | null
  const candidate = view?.Quill
  if (typeof candidate !== 'function') return undefined
  const find = (candidate as { find?: unknown }).find
  return typeof find === 'function' ? (candidate as typeof Quill) : undefined
}

/** The Quill instance whose container is `element`, if the page created one. */
const quillOf = (QuillClass: typeof Quill | undefined, element: Element): Quill | undefined => {
  if (QuillClass === undefined) return undefined
  const found: unknown = QuillClass.find(element)
  return found instanceof QuillClass ? found : undefined
}

const refuse = (refused: string, retry = false): FieldRefusal => ({ refused, retry })

const inputTarget = (
  element: HTMLTextAreaElement | HTMLInputElement,
  isInput: boolean,
): FieldTarget | FieldRefusal => {
  const secret = secretAutocomplete(element)
  if (secret !== undefined) return refuse(secret)
  if (!isInput) return { kind: 'text-field', element }
  const type = element.type.toLowerCase()
  if (type === 'password') return refuse('it is a password field')
  if (type === 'hidden') return refuse('it is a hidden input')
  if (!TEXT_INPUT_TYPES.has(type)) return refuse(`<input type="${type}"> does not hold free text`)
  return { kind: 'text-field', element }
}

/**
 * How `element` is bound, or why not. A `.ql-editor` inside a Quill container stands for its
 * container. Reads the DOM only; never throws.
 */
export const fieldTarget = (element: Element): FieldTarget | FieldRefusal => {
  const view = element.ownerDocument.defaultView
  if (view === null) return refuse('it is not in a document with a window')
  if (element instanceof view.HTMLTextAreaElement) return inputTarget(element, false)
  if (element instanceof view.HTMLInputElement) return inputTarget(element, true)
  if (!(element instanceof view.HTMLElement)) return refuse('it is not an HTML element')
  const secret = secretAutocomplete(element)
  if (secret !== undefined) return refuse(secret)

  const container =
    element.classList.contains('ql-editor') &&
    element.parentElement?.classList.contains('ql-container') === true
      ? element.parentElement
      : element
  const QuillClass = pageQuill(element)
  const quill = quillOf(QuillClass, container)
  if (quill !== undefined) return { kind: 'quill', element: container, quill }
  if (container.classList.contains('ql-container')) {
    return refuse(
      QuillClass === undefined
        ? 'it is a Quill container but the page has no window.Quill; load Quill as a global'
        : 'it is a Quill container without an editor yet; it is bound once the page creates one',
      QuillClass !== undefined,
    )
  }

  if (element.isContentEditable || isEditableAttribute(element.getAttribute('contenteditable'))) {
    return { kind: 'content-editable', element }
  }
  return refuse('it is not a textarea, a text input, a Quill container or contenteditable')
}

/** `contenteditable` values that make an element editable (the empty string means "true"). */
const isEditableAttribute = (value: string | null) =>
  value !== null && ['', 'true', 'plaintext-only'].includes(value.toLowerCase())

/** Narrows `fieldTarget`'s result. */
export const isRefusal = (result: FieldTarget | FieldRefusal): result is FieldRefusal =>
  'refused' in result

/**
 * A field's identity across copies of one page: the sharer describes the element it picked, and
 * every other user's content script resolves the description against its own copy of the page,
 * which may differ (an extra banner, a logged-in menu, ids generated per page load).
 *
 * Signals, in order of trust: a unique id that does not look generated; the `name` (with its
 * form's id or name) of a textarea or input; the accessible label (`<label>`, `aria-label`,
 * `aria-labelledby`, `placeholder`); and last a structural path (tag and nth-of-type from the
 * nearest ancestor with a stable id, or from `<body>`). A signal that matches no candidate or
 * several is skipped, never guessed between: binding the wrong field would write one user's text
 * into another field of everyone else's page.
 *
 * Descriptors travel through the shared document, so other users write them: `readFieldDescriptor`
 * is the boundary that validates one. Resolution only ever considers fields `editableField`
 * accepts, so a descriptor cannot aim at a password or card field.
 */
import { CoeditError } from '@coedit/sdk'
import { editableField, findEditableFields, type FieldKind } from './editable-fields.js'

/** Where a field sits: tag:nth-of-type steps below the anchor (a stable id) or `<body>`. */
export interface FieldPath {
  /** The id of the nearest ancestor with a stable, unique id; absent: from `<body>`. */
  readonly anchor?: string
  /** `tag:n` steps, n 1-based among same-tag siblings, from the anchor's child to the field. */
  readonly steps: readonly string[]
}

/** How another copy of the page finds the same field (JSON, stored in `coedit:fields`). */
export interface FieldDescriptor {
  readonly v: 1
  readonly kind: FieldKind
  /** Lower-case tag name. */
  readonly tag: string
  /** `<input type>`, lower case. */
  readonly type?: string
  /** A unique id that does not look generated. */
  readonly id?: string
  /** The `name` of a textarea or input. */
  readonly name?: string
  /** The owning form's stable id, else its name. */
  readonly form?: string
  /** The accessible label, whitespace-collapsed. */
  readonly label?: string
  readonly path: FieldPath
}

export type Resolution = { readonly element: HTMLElement } | { readonly error: string }

/** Longest label, name or id kept (a page could label a field with an essay). */
const MAX_TEXT = 200
const MAX_STEPS = 64
const KINDS = new Set<FieldKind>(['text-field', 'content-editable', 'quill'])
const STEP = /^[a-z][a-z0-9-]*:[1-9][0-9]{0,5}$/

/**
 * Ids frameworks generate per render or per page load; they may differ between two users' copies
 * of the same page, so they are not an identity.
 */
const GENERATED_IDS: readonly RegExp[] = [
  /^:[^:]+:$/, // React useId: ":r1:"
  /^«[^»]+»$/, // React 19.1 useId: "«r1»"
  // Framework counters: ember123, ext-gen12, yui_3_1, gwt-uid-3, ui-id-4 (jQuery UI), mui-12,
  // radix-:r2:, headlessui-menu-3, react-aria123, rc_select_1, __BVID__12, el-id-12-3.
  /^(?:ember|ext-(?:gen|comp)|yui_|gwt-uid|ui-id-|mui-|radix-|headlessui-|react-aria|rc_|__bvid__|el-id-)/i,
  /\d{4,}/, // timestamps, counters
  /(?=[0-9a-f]*\d)[0-9a-f]{8,}/i, // hashes, uuids
]

export const isStableId = (id: string): boolean =>
  id.length > 0 && id.length <= MAX_TEXT && !GENERATED_IDS.some((pattern) => pattern.test(id))

const normalise = (text: string): string =>
  text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\s*[:*]+$/, '')
    .slice(0, MAX_TEXT)

/** Text of `node` without the text of form controls inside it (a wrapping label's textarea). */
const textOf = (node: Node): string => {
  if (node.nodeType === 3) return node.nodeValue ?? ''
  if (node.nodeType !== 1) return ''
  const tag = (node as Element).localName
  if (['textarea', 'select', 'input', 'script', 'style', 'template'].includes(tag)) return ''
  return Array.from(node.childNodes, textOf).join(' ')
}

/** Elements with attribute `name` equal to `value` (no selector escaping to get wrong). */
const withAttribute = (root: Document, name: string, value: string): Element[] =>
  Array.from(root.querySelectorAll(`[${name}]`)).filter((el) => el.getAttribute(name) === value)

const uniqueStableId = (element: Element): string | undefined => {
  const id = element.getAttribute('id')
  if (id === null || !isStableId(id)) return undefined
  return withAttribute(element.ownerDocument, 'id', id).length === 1 ? id : undefined
}

const isFormControl = (element: Element): element is HTMLTextAreaElement | HTMLInputElement =>
  element.localName === 'textarea' || element.localName === 'input'

/** The first non-empty accessible label: `<label>`, aria-label, aria-labelledby, placeholder. */
export const fieldLabel = (element: HTMLElement): string | undefined => {
  const page = element.ownerDocument
  // A Quill container carries no label; its editor (`.ql-editor`) may.
  const editor = element.classList.contains('ql-container')
    ? element.querySelector<HTMLElement>('.ql-editor')
    : null
  const sources = editor === null ? [element] : [element, editor]
  const candidates: (() => string | null | undefined)[] = [
    () => {
      const labels = new Set<Element>()
      const id = element.getAttribute('id')
      if (id !== null) {
        for (const label of withAttribute(page, 'for', id)) {
          if (label.localName === 'label') labels.add(label)
        }
      }
      const wrapping = element.parentElement?.closest('label')
      if (wrapping !== null && wrapping !== undefined) labels.add(wrapping)
      return Array.from(labels, textOf).join(' ')
    },
    ...sources.map((source) => () => source.getAttribute('aria-label')),
    ...sources.map((source) => () => {
      const ids = source.getAttribute('aria-labelledby')?.split(/\s+/) ?? []
      return ids
        .map((id) => page.getElementById(id))
        .map((label) => (label === null ? '' : textOf(label)))
        .join(' ')
    }),
    ...sources.map(
      (source) => () =>
        source.getAttribute('placeholder') ?? source.getAttribute('data-placeholder'),
    ),
  ]
  for (const candidate of candidates) {
    const text = normalise(candidate() ?? '')
    if (text !== '') return text
  }
  return undefined
}

/** The form a control belongs to, by its stable id, else its name. */
const formKey = (element: Element): string | undefined => {
  const form = isFormControl(element) ? element.form : null
  if (form === null) return undefined
  return uniqueStableId(form) ?? form.getAttribute('name') ?? undefined
}

const stepOf = (element: Element): string => {
  let index = 1
  for (
    let sibling = element.previousElementSibling;
    sibling;
    sibling = sibling.previousElementSibling
  ) {
    if (sibling.localName === element.localName) index++
  }
  return `${element.localName}:${index}`
}

const pathOf = (element: HTMLElement): FieldPath => {
  const body = element.ownerDocument.body
  const steps: string[] = []
  let current: Element = element
  while (current !== body && current.parentElement !== null && steps.length < MAX_STEPS) {
    steps.unshift(stepOf(current))
    const anchor = uniqueStableId(current.parentElement)
    if (anchor !== undefined) return { anchor, steps }
    current = current.parentElement
  }
  return { steps }
}

const elementAtPath = (page: Document, path: FieldPath): Element | undefined => {
  let current: Element | null =
    path.anchor === undefined
      ? page.body
      : withAttribute(page, 'id', path.anchor).length === 1
        ? page.getElementById(path.anchor)
        : null
  for (const step of path.steps) {
    if (current === null) return undefined
    const [tag, nth] = step.split(':')
    let count = 0
    let next: Element | null = null
    for (const child of Array.from(current.children)) {
      if (child.localName === tag && ++count === Number(nth)) {
        next = child
        break
      }
    }
    current = next
  }
  return current ?? undefined
}

/**
 * Describes a field the user picked. Throws `CoeditError('misuse')` when the element is not one
 * the extension may share (see `editableField`).
 */
export const describeField = (element: HTMLElement): FieldDescriptor => {
  const field = editableField(element)
  if (field === undefined || field.element !== element) {
    throw new CoeditError(
      'misuse',
      'describeField: the element is not a field Coedit may share; pass what findEditableFields returned',
    )
  }
  const id = uniqueStableId(element)
  const name = isFormControl(element) ? element.getAttribute('name') : null
  const form = formKey(element)
  const label = fieldLabel(element)
  return {
    v: 1,
    kind: field.kind,
    tag: element.localName,
    ...(element.localName === 'input' ? { type: (element as HTMLInputElement).type } : {}),
    ...(id === undefined ? {} : { id }),
    ...(name === null || name === '' ? {} : { name: name.slice(0, MAX_TEXT) }),
    ...(form === undefined ? {} : { form: form.slice(0, MAX_TEXT) }),
    ...(label === undefined ? {} : { label }),
    path: pathOf(element),
  }
}

/** How a field is named to people: `"Summary" (textarea)`, or `the shared Quill editor`. */
export const fieldTitle = (descriptor: FieldDescriptor): string => {
  const what =
    descriptor.kind === 'quill'
      ? 'Quill editor'
      : descriptor.kind === 'content-editable'
        ? 'rich-text field'
        : descriptor.tag === 'input'
          ? `${descriptor.type ?? 'text'} input`
          : descriptor.tag
  const name = descriptor.label ?? descriptor.name ?? descriptor.id
  return name === undefined ? `the shared ${what}` : `the field "${name}" (${what})`
}

/**
 * Finds the element `descriptor` names in `page`, or says why not. Only fields of the same kind
 * are candidates; each signal must single one out.
 */
export const resolveField = (page: Document, descriptor: FieldDescriptor): Resolution => {
  const candidates = findEditableFields(page)
    .filter((field) => field.kind === descriptor.kind)
    .map((field) => field.element)
  const signals: ((element: HTMLElement) => boolean)[] = []
  const { id, name, form, label } = descriptor
  if (id !== undefined) signals.push((element) => element.getAttribute('id') === id)
  if (name !== undefined) {
    signals.push(
      (element) =>
        isFormControl(element) &&
        element.getAttribute('name') === name &&
        (form === undefined || formKey(element) === form),
    )
  }
  if (label !== undefined) signals.push((element) => fieldLabel(element) === label)
  for (const signal of signals) {
    const matches = candidates.filter(signal)
    if (matches.length === 1 && matches[0] !== undefined) return { element: matches[0] }
  }
  const atPath = elementAtPath(page, descriptor.path)
  const byPath = candidates.find((element) => element === atPath)
  if (byPath !== undefined) return { element: byPath }
  return {
    error: `Could not find ${fieldTitle(descriptor)} on this page — the page may differ from the sharer's`,
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const optionalText = (value: unknown): value is string | undefined =>
  value === undefined || (typeof value === 'string' && value.length > 0 && value.length <= MAX_TEXT)

/** A descriptor read from the shared document, or `undefined` when it is not a valid one. */
export const readFieldDescriptor = (value: unknown): FieldDescriptor | undefined => {
  if (!isRecord(value) || value['v'] !== 1) return undefined
  const { kind, tag, type, id, name, form, label, path } = value
  if (typeof kind !== 'string' || !KINDS.has(kind as FieldKind)) return undefined
  if (typeof tag !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(tag)) return undefined
  if (![type, id, name, form, label].every(optionalText)) return undefined
  if (!isRecord(path) || !Array.isArray(path['steps'])) return undefined
  const steps: unknown[] = path['steps']
  const anchor = path['anchor']
  if (steps.length > MAX_STEPS || !steps.every((s) => typeof s === 'string' && STEP.test(s))) {
    return undefined
  }
  if (!optionalText(anchor)) return undefined
  return {
    v: 1,
    kind: kind as FieldKind,
    tag,
    ...(typeof type === 'string' ? { type } : {}),
    ...(typeof id === 'string' ? { id } : {}),
    ...(typeof name === 'string' ? { name } : {}),
    ...(typeof form === 'string' ? { form } : {}),
    ...(typeof label === 'string' ? { label } : {}),
    path: { ...(typeof anchor === 'string' ? { anchor } : {}), steps: steps as string[] },
  }
}

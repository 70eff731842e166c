/**
 * The field picker: after the user chose "Pick a field" in the popup, every field the extension
 * may share is outlined over the page; a click (or Enter on a focused outline) chooses one,
 * Escape or "Cancel" gives up. Sensitive fields (editable-fields.ts) are never outlined, so they
 * cannot be chosen.
 *
 * The page's DOM is left alone but for one host element, `<coedit-picker data-coedit-picker>`, appended to
 * `<body>` and removed when the picker settles: the outlines are fixed-position buttons in its
 * shadow root, above everything (max z-index), repositioned on scroll and resize. A transparent
 * backdrop swallows other clicks so that picking never also clicks the page.
 */
import { findEditableFields, type EditableField } from './editable-fields.js'
import { fieldLabel } from './field-identity.js'
import { createOverlayHost } from './overlay-host.js'

export const PICKER_ATTRIBUTE = 'data-coedit-picker'

export interface PickerOptions {
  /** Fields not to offer (already shared). */
  readonly skip?: (element: HTMLElement) => boolean
}

export interface Picker {
  /** The chosen field, or `undefined` when the user cancelled. Settles once. */
  readonly chosen: Promise<EditableField | undefined>
  /** The fields outlined, in document order. */
  readonly offered: readonly EditableField[]
  /** Cancels (resolves `chosen` with `undefined`) and removes the overlay. Idempotent. */
  cancel(): void
}

const STYLE = `
  :host { all: initial; }
  .backdrop { position: fixed; inset: 0; background: rgba(0, 0, 0, 0.06); }
  .field {
    position: fixed; box-sizing: border-box; margin: 0; padding: 0; cursor: pointer;
    border: 2px solid #1a73e8; border-radius: 4px; background: rgba(26, 115, 232, 0.1);
  }
  .field:hover, .field:focus-visible { background: rgba(26, 115, 232, 0.3); outline: none; }
  .hint {
    position: fixed; top: 12px; left: 50%; transform: translateX(-50%);
    display: flex; align-items: center; gap: 10px; padding: 6px 8px 6px 12px; border-radius: 8px;
    background: #202124; color: #fff; font: 13px/1.4 system-ui, sans-serif;
    box-shadow: 0 2px 8px rgba(0, 0, 0, 0.3);
  }
  .hint button {
    border: 0; border-radius: 4px; padding: 3px 8px; font: inherit; cursor: pointer;
    background: #5f6368; color: #fff;
  }
  [hidden] { display: none; }
`

export const createPicker = (page: Document, options: PickerOptions = {}): Picker => {
  const view = page.defaultView ?? window
  const offered = findEditableFields(page).filter(
    (field) => options.skip === undefined || !options.skip(field.element),
  )

  const { host, root } = createOverlayHost(page, 'coedit-picker', {
    inset: '0',
    'z-index': '2147483647',
  })
  host.setAttribute(PICKER_ATTRIBUTE, '')
  const style = page.createElement('style')
  style.textContent = STYLE
  const backdrop = page.createElement('div')
  backdrop.className = 'backdrop'
  const hint = page.createElement('div')
  hint.className = 'hint'
  hint.setAttribute('role', 'dialog')
  const hintText = page.createElement('span')
  hintText.textContent =
    offered.length === 0
      ? 'Coedit: no field on this page can be shared'
      : 'Coedit: click the field to share · Esc to cancel'
  const cancelButton = page.createElement('button')
  cancelButton.type = 'button'
  cancelButton.textContent = 'Cancel'
  hint.append(hintText, cancelButton)

  const boxes = offered.map((field, index) => {
    const box = page.createElement('button')
    box.type = 'button'
    box.className = 'field'
    box.setAttribute('data-field-index', String(index))
    box.setAttribute('aria-label', `Share ${fieldLabel(field.element) ?? `field ${index + 1}`}`)
    return box
  })
  root.append(style, backdrop, ...boxes, hint)

  let frame: number | undefined
  const place = () => {
    frame = undefined
    offered.forEach((field, index) => {
      const box = boxes[index]
      if (box === undefined) return
      const rect = field.element.getBoundingClientRect()
      const visible = field.element.isConnected && rect.width > 0 && rect.height > 0
      box.hidden = !visible
      box.style.setProperty('left', `${rect.left}px`)
      box.style.setProperty('top', `${rect.top}px`)
      box.style.setProperty('width', `${rect.width}px`)
      box.style.setProperty('height', `${rect.height}px`)
    })
  }
  const schedule = () => {
    if (frame === undefined) frame = view.requestAnimationFrame(place)
  }

  let settle: (field: EditableField | undefined) => void = () => undefined
  const chosen = new Promise<EditableField | undefined>((resolve) => {
    settle = resolve
  })
  let settled = false
  const finish = (field: EditableField | undefined) => {
    if (settled) return
    settled = true
    view.removeEventListener('keydown', onKeyDown, true)
    view.removeEventListener('scroll', schedule, true)
    view.removeEventListener('resize', schedule)
    root.removeEventListener('click', onClick)
    if (frame !== undefined) view.cancelAnimationFrame(frame)
    host.remove()
    settle(field)
  }

  const onClick = (event: Event) => {
    event.preventDefault()
    event.stopPropagation()
    const target = event.target
    if (target === cancelButton) return finish(undefined)
    const index = boxes.indexOf(target as HTMLButtonElement)
    const field = offered[index]
    if (field !== undefined) finish(field)
  }
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== 'Escape') return
    // The page must not also act on it (close its own dialog, say).
    event.preventDefault()
    event.stopPropagation()
    finish(undefined)
  }

  root.addEventListener('click', onClick)
  view.addEventListener('keydown', onKeyDown, true)
  view.addEventListener('scroll', schedule, true)
  view.addEventListener('resize', schedule)
  place()
  ;(page.body ?? page.documentElement).append(host)

  return { chosen, offered, cancel: () => finish(undefined) }
}

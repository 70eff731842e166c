// @vitest-environment happy-dom
/**
 * The field picker: which fields it outlines (never one that may hold a secret), choosing by
 * click, cancelling by Escape or the Cancel button, and leaving nothing behind in the page.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPicker, PICKER_ATTRIBUTE, type Picker } from '../../src/content/picker.js'
import { $, setPage } from './helpers/page.js'

const pickers: Picker[] = []
afterEach(() => {
  for (const picker of pickers.splice(0)) picker.cancel()
  document.body.replaceChildren()
})

const open = (...args: Parameters<typeof createPicker>) => {
  const picker = createPicker(...args)
  pickers.push(picker)
  return picker
}

const PAGE = `
  <form>
    <input type="password" data-mark="password">
    <input autocomplete="cc-number" data-mark="card">
    <input autocomplete="one-time-code" data-mark="otp">
    <input type="hidden" data-mark="hidden">
    <input type="checkbox" data-mark="checkbox">
    <input disabled data-mark="disabled">
    <input type="search" data-mark="search">
    <textarea data-mark="textarea"></textarea>
  </form>
  <div contenteditable="true" data-mark="rich"><p>a <b contenteditable="true">b</b></p></div>
  <div class="ql-container" data-mark="quill"><div class="ql-editor" contenteditable="true"><p>q</p></div>
    <div class="ql-clipboard" contenteditable="true"></div></div>`

const marks = (picker: Picker) =>
  picker.offered.map(({ kind, element }) => `${element.getAttribute('data-mark')}:${kind}`)

/** The picker's shadow root (open, so tests and site styles can look in). */
const overlay = () => {
  const host = document.querySelector(`[${PICKER_ATTRIBUTE}]`)
  if (host?.shadowRoot == null) throw new Error('no picker on the page')
  return host.shadowRoot
}

const boxFor = (picker: Picker, element: Element) => {
  const index = picker.offered.findIndex((field) => field.element === element)
  const box = overlay().querySelector<HTMLButtonElement>(`[data-field-index="${index}"]`)
  if (box === null) throw new Error('no outline for that element')
  return box
}

describe('picker', () => {
  it('outlines text fields, contenteditable roots and Quill containers — no secrets', () => {
    setPage(PAGE)
    const picker = open(document)
    expect(marks(picker)).toEqual([
      'search:text-field',
      'textarea:text-field',
      'rich:content-editable',
      'quill:quill',
    ])
    expect(overlay().querySelectorAll('.field')).toHaveLength(4)
  })

  it('resolves with the textarea whose outline is clicked, and removes itself', async () => {
    setPage(PAGE)
    const before = document.body.childNodes.length
    const picker = open(document)
    expect(document.body.childNodes.length).toBe(before + 1)
    const pageClick = vi.fn()
    document.addEventListener('click', pageClick)
    boxFor(picker, $('textarea')).click()
    await expect(picker.chosen).resolves.toEqual({ kind: 'text-field', element: $('textarea') })
    expect(pageClick).not.toHaveBeenCalled() // the page never saw the click
    document.removeEventListener('click', pageClick)
    expect(document.querySelector(`[${PICKER_ATTRIBUTE}]`)).toBeNull()
    expect(document.body.childNodes.length).toBe(before)
  })

  it('cancels on Escape without the page seeing the key, leaving the DOM as it was', async () => {
    setPage(PAGE)
    const html = document.body.outerHTML
    const picker = open(document)
    const pageKey = vi.fn()
    document.addEventListener('keydown', pageKey)
    $('textarea').dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))
    await expect(picker.chosen).resolves.toBeUndefined()
    expect(pageKey).not.toHaveBeenCalled()
    document.removeEventListener('keydown', pageKey)
    expect(document.body.outerHTML).toBe(html)
    // Later keys and clicks are the page's again.
    $('textarea').dispatchEvent(new KeyboardEvent('keydown', { key: 'a', bubbles: true }))
  })

  it('cancels with the Cancel button, and ignores clicks beside the fields', async () => {
    setPage(PAGE)
    const picker = open(document)
    const settled = vi.fn()
    void picker.chosen.then(settled)
    overlay().querySelector<HTMLElement>('.backdrop')?.click()
    await Promise.resolve()
    expect(settled).not.toHaveBeenCalled()
    const cancel = Array.from(overlay().querySelectorAll('button')).find(
      (button) => button.textContent === 'Cancel',
    )
    cancel?.click()
    await expect(picker.chosen).resolves.toBeUndefined()
    expect(document.querySelector(`[${PICKER_ATTRIBUTE}]`)).toBeNull()
  })

  it('does not offer fields already shared, and says when nothing is left', () => {
    setPage(`<textarea></textarea>`)
    const picker = open(document, { skip: (element) => element.localName === 'textarea' })
    expect(picker.offered).toEqual([])
    expect(overlay().textContent).toContain('no field on this page can be shared')
  })

  it('cancel() is idempotent and stops listening', async () => {
    setPage(PAGE)
    const picker = open(document)
    picker.cancel()
    picker.cancel()
    await expect(picker.chosen).resolves.toBeUndefined()
    const pageKey = vi.fn()
    document.addEventListener('keydown', pageKey)
    $('textarea').dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))
    expect(pageKey).toHaveBeenCalledTimes(1)
    document.removeEventListener('keydown', pageKey)
  })
})

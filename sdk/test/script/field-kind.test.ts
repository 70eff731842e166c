// @vitest-environment happy-dom
/**
 * Which `[data-coedit]` elements are bound, and how: text fields, the page's own Quill editors,
 * contenteditable; and refusals of anything that may hold a secret or is not text.
 */
import Quill from 'quill'
import { afterEach, describe, expect, it } from 'vitest'
import { fieldTarget, isRefusal } from '../../src/script/field-kind.js'

const pageWindow = window as Window & { Quill?: unknown }

afterEach(() => {
  document.body.replaceChildren()
  delete pageWindow.Quill
})

/** A `<tag>` with `attributes`, appended to the body. */
const element = (tag: string, attributes: Record<string, string> = {}): HTMLElement => {
  const created = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) created.setAttribute(name, value)
  document.body.append(created)
  return created
}

const kindOf = (tag: string, attributes: Record<string, string> = {}) => {
  const result = fieldTarget(element(tag, attributes))
  return isRefusal(result) ? `refused: ${result.refused}` : result.kind
}

describe('fieldTarget', () => {
  it('binds textareas and text-like inputs as text fields', () => {
    expect(kindOf('textarea')).toBe('text-field')
    for (const type of ['text', 'search', 'url', 'tel', 'email', 'TEXT']) {
      expect(kindOf('input', { type })).toBe('text-field')
    }
    expect(kindOf('input')).toBe('text-field')
  })

  it('refuses password, hidden, file and other non-text inputs', () => {
    expect(kindOf('input', { type: 'password' })).toMatch(/refused: .*password/)
    expect(kindOf('input', { type: 'hidden' })).toMatch(/refused: .*hidden/)
    for (const type of ['file', 'checkbox', 'number', 'date', 'range', 'color', 'submit']) {
      expect(kindOf('input', { type })).toMatch(/^refused: /)
    }
  })

  it('refuses fields whose autocomplete marks card data, one-time codes or passwords', () => {
    for (const token of [
      'cc-number',
      'cc-csc',
      'billing cc-exp',
      'one-time-code',
      'new-password',
    ]) {
      expect(kindOf('input', { type: 'text', autocomplete: token })).toMatch(
        /refused: autocomplete/,
      )
      expect(kindOf('textarea', { autocomplete: token })).toMatch(/^refused: /)
      expect(kindOf('div', { contenteditable: '', autocomplete: token })).toMatch(/^refused: /)
    }
    expect(kindOf('input', { autocomplete: 'name' })).toBe('text-field')
  })

  it('binds contenteditable elements, not plain ones', () => {
    expect(kindOf('div', { contenteditable: '' })).toBe('content-editable')
    expect(kindOf('div', { contenteditable: 'true' })).toBe('content-editable')
    expect(kindOf('div', { contenteditable: 'plaintext-only' })).toBe('content-editable')
    expect(kindOf('div', { contenteditable: 'false' })).toMatch(/^refused: /)
    expect(kindOf('div')).toMatch(/^refused: /)
    expect(kindOf('select')).toMatch(/^refused: /)
  })

  it("binds a Quill container to the page's own instance, and its .ql-editor to the same", () => {
    pageWindow.Quill = Quill
    const container = element('div')
    const quill = new Quill(container)
    const direct = fieldTarget(container)
    expect(direct).toMatchObject({ kind: 'quill', element: container })
    expect(isRefusal(direct) ? undefined : direct.kind === 'quill' && direct.quill).toBe(quill)
    const editor = container.querySelector('.ql-editor')
    expect(editor).not.toBeNull()
    expect(fieldTarget(editor as Element)).toMatchObject({ kind: 'quill', element: container })
  })

  it('waits for the editor of a Quill container, and says so when the page has no window.Quill', () => {
    const container = element('div', { class: 'ql-container' })
    expect(fieldTarget(container)).toMatchObject({
      refused: expect.stringMatching(/window\.Quill/),
      retry: false,
    })
    pageWindow.Quill = Quill
    expect(fieldTarget(container)).toMatchObject({ retry: true })
  })
})

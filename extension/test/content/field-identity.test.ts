// @vitest-environment happy-dom
/**
 * Describing a picked field on the sharer's page and finding it again on other copies of the
 * page: the same page, one with extra elements, one whose ids are generated differently, one with
 * twin textareas told apart by their labels, one without the field; and the descriptor reader
 * that guards what other users put in the shared document.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  describeField,
  isStableId,
  readFieldDescriptor,
  resolveField,
  type FieldDescriptor,
} from '../../src/content/field-identity.js'
import { $, setPage } from './helpers/page.js'

afterEach(() => {
  document.body.replaceChildren()
})

/** Describes `selector` on `sharer`, then resolves the description on `other`. */
const roundTrip = (sharer: string, selector: string, other: string) => {
  setPage(sharer)
  const descriptor = JSON.parse(JSON.stringify(describeField($(selector)))) as FieldDescriptor
  setPage(other)
  return { descriptor, resolution: resolveField(document, descriptor) }
}

const resolvedTo = (resolution: ReturnType<typeof resolveField>) =>
  'element' in resolution ? resolution.element : resolution.error

const FORM = `
  <header><a href="/">Home</a></header>
  <main id="content">
    <form id="report" name="report">
      <label for="summary">Summary:</label>
      <textarea id="summary" name="summary" data-mark="summary"></textarea>
      <input name="title" placeholder="Title" data-mark="title">
    </form>
    <div contenteditable="true" aria-label="Notes" data-mark="notes"><p>hi</p></div>
  </main>`

describe('describeField', () => {
  it('records the trusted signals of a textarea', () => {
    setPage(FORM)
    expect(describeField($('textarea'))).toEqual({
      v: 1,
      kind: 'text-field',
      tag: 'textarea',
      id: 'summary',
      name: 'summary',
      form: 'report',
      label: 'Summary',
      path: { anchor: 'report', steps: ['textarea:1'] },
    })
    expect(describeField($('[data-mark=notes]'))).toEqual({
      v: 1,
      kind: 'content-editable',
      tag: 'div',
      label: 'Notes',
      path: { anchor: 'content', steps: ['div:1'] },
    })
  })

  it('skips ids that look generated, and ids that are not unique', () => {
    for (const id of [
      ':r1:',
      '«r2»',
      'ember123',
      'ext-gen12',
      'mui-42',
      'f-1700000000',
      'a1b2c3d4e5f6',
    ]) {
      expect(isStableId(id), id).toBe(false)
    }
    for (const id of ['summary', 'comment-body', 'field-1', 'description']) {
      expect(isStableId(id), id).toBe(true)
    }
    setPage(`<textarea id=":r1:"></textarea><div id="x"></div><textarea id="x"></textarea>`)
    const [generated, duplicate] = Array.from(document.querySelectorAll('textarea'))
    expect(describeField(generated as HTMLElement)).not.toHaveProperty('id')
    expect(describeField(duplicate as HTMLElement)).not.toHaveProperty('id')
  })

  it('describes a Quill editor by its container, labelled by the editor placeholder', () => {
    setPage(`<div id="editor" class="ql-container"><div class="ql-editor" contenteditable="true"
      data-placeholder="Compose an epic…"><p>x</p></div></div>`)
    expect(describeField($('.ql-container'))).toMatchObject({
      kind: 'quill',
      tag: 'div',
      id: 'editor',
      label: 'Compose an epic…',
    })
  })

  it('refuses to describe a field that may hold a secret', () => {
    setPage(
      `<input type="password"><input autocomplete="cc-number"><input autocomplete="one-time-code">`,
    )
    for (const input of Array.from(document.querySelectorAll('input'))) {
      expect(() => describeField(input)).toThrow(/not a field Coedit may share/)
    }
  })
})

describe('resolveField', () => {
  it('finds the field on the same page', () => {
    const { resolution } = roundTrip(FORM, 'textarea', FORM)
    expect(resolvedTo(resolution)).toBe($('[data-mark=summary]'))
    expect(resolvedTo(roundTrip(FORM, '[data-mark=notes]', FORM).resolution)).toBe(
      $('[data-mark=notes]'),
    )
  })

  it('finds it on a page with extra elements inserted before it', () => {
    const extra = FORM.replace('<header>', '<div class="banner">Sale!</div><header>').replace(
      '<label for="summary">',
      '<textarea name="other"></textarea><label for="summary">',
    )
    expect(resolvedTo(roundTrip(FORM, 'textarea', extra).resolution)).toBe($('[data-mark=summary]'))
    // No id, name or label: the path from the stable anchor still holds.
    const bare = `<main id="content"><div><textarea data-mark="a"></textarea></div></main>`
    const shifted = `<div>ad</div><main id="content"><div><textarea data-mark="a"></textarea></div></main>`
    expect(resolvedTo(roundTrip(bare, 'textarea', shifted).resolution)).toBe($('[data-mark=a]'))
  })

  it('finds it by name when ids are generated differently on each copy', () => {
    const sharer = `<form><textarea id=":r1:" name="body"></textarea><textarea id=":r2:" name="sig"></textarea></form>`
    const other = `<form><textarea id=":r7:" name="sig" data-mark="sig"></textarea><textarea id=":r8:" name="body" data-mark="body"></textarea></form>`
    const { descriptor, resolution } = roundTrip(sharer, '[name=body]', other)
    expect(descriptor).not.toHaveProperty('id')
    expect(resolvedTo(resolution)).toBe($('[data-mark=body]'))
  })

  it('tells two unnamed textareas apart by their labels, even when their order differs', () => {
    const sharer = `<label>Pros <textarea></textarea></label><label>Cons <textarea></textarea></label>`
    const other = `<label>Cons <textarea data-mark="cons"></textarea></label><label>Pros <textarea data-mark="pros"></textarea></label>`
    const { descriptor, resolution } = roundTrip(sharer, 'label:nth-of-type(2) textarea', other)
    expect(descriptor.label).toBe('Cons')
    expect(resolvedTo(resolution)).toBe($('[data-mark=cons]'))
  })

  it('uses the form to choose between fields of the same name', () => {
    const page = `<form id="a"><input name="q" data-mark="a"></form><form id="b"><input name="q" data-mark="b"></form>`
    const reordered = `<p></p><form id="b"><input name="q" data-mark="b"></form><form id="a"><input name="q" data-mark="a"></form>`
    expect(resolvedTo(roundTrip(page, '#b input', reordered).resolution)).toBe($('[data-mark=b]'))
  })

  it('falls back to the path when a signal matches several fields', () => {
    const page = `<div><textarea placeholder="Reply"></textarea></div><div><textarea placeholder="Reply"></textarea></div>`
    const same = `<div><textarea placeholder="Reply" data-mark="1"></textarea></div><div><textarea placeholder="Reply" data-mark="2"></textarea></div>`
    expect(resolvedTo(roundTrip(page, 'div:nth-of-type(2) textarea', same).resolution)).toBe(
      $('[data-mark="2"]'),
    )
  })

  it('says which field it could not find', () => {
    const { resolution } = roundTrip(FORM, 'textarea', `<main><p>Nothing to edit</p></main>`)
    expect(resolution).toEqual({
      error:
        'Could not find the field "Summary" (textarea) on this page — the page may differ from the sharer\'s',
    })
    const unnamed = roundTrip(`<div contenteditable></div>`, 'div', `<p></p>`).resolution
    expect(resolvedTo(unnamed)).toMatch(/^Could not find the shared rich-text field on this page/)
  })

  it('requires the same kind of field', () => {
    const { resolution } = roundTrip(
      `<textarea id="body"></textarea>`,
      'textarea',
      `<div id="body" contenteditable></div>`,
    )
    expect(resolvedTo(resolution)).toMatch(/^Could not find the field "body" \(textarea\)/)
  })

  it('never resolves to a field that may hold a secret, whatever the descriptor says', () => {
    setPage(`<input id="pin" autocomplete="one-time-code"><input id="pw" type="password">`)
    for (const id of ['pin', 'pw']) {
      const forged: FieldDescriptor = {
        v: 1,
        kind: 'text-field',
        tag: 'input',
        id,
        path: { steps: [id === 'pin' ? 'input:1' : 'input:2'] },
      }
      expect(resolvedTo(resolveField(document, forged))).toMatch(/^Could not find/)
    }
  })
})

describe('readFieldDescriptor', () => {
  it('accepts what describeField wrote, after a trip through JSON', () => {
    setPage(FORM)
    const descriptor = describeField($('textarea'))
    expect(readFieldDescriptor(JSON.parse(JSON.stringify(descriptor)))).toEqual(descriptor)
  })

  it('rejects anything else', () => {
    const valid = { v: 1, kind: 'text-field', tag: 'textarea', path: { steps: ['textarea:1'] } }
    expect(readFieldDescriptor(valid)).toEqual(valid)
    for (const bad of [
      null,
      'x',
      { ...valid, v: 2 },
      { ...valid, kind: 'password' },
      { ...valid, tag: 'TEXTAREA"' },
      { ...valid, label: 'x'.repeat(201) },
      { ...valid, id: 42 },
      { ...valid, name: '' },
      { ...valid, path: { steps: ['textarea:0'] } },
      { ...valid, path: { steps: 'textarea:1' } },
      { ...valid, path: { steps: Array.from({ length: 65 }, () => 'div:1') } },
      { ...valid, path: { anchor: 7, steps: [] } },
    ]) {
      expect(readFieldDescriptor(bad), JSON.stringify(bad)).toBeUndefined()
    }
  })
})

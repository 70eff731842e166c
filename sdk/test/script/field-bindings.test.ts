// @vitest-environment happy-dom
/**
 * The registry of bound fields: `[data-coedit]` elements present at `watch()`, added, removed,
 * moved and re-marked later (MutationObserver), refusals reported once, explicit `bind()`, and a
 * `destroy()` that leaves nothing bound or observed.
 */
import Quill from 'quill'
import { afterEach, describe, expect, it } from 'vitest'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { CoeditError } from '../../src/protocol/errors.js'
import { createFieldBindings, type FieldBindings } from '../../src/script/field-bindings.js'
import { createUndoManagers } from '../../src/undo/undo-managers.js'

const REMOTE = 'remote'
const pageWindow = window as Window & { Quill?: unknown }
const cleanups: (() => void)[] = []

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
  document.body.replaceChildren()
  delete pageWindow.Quill
})

/** A registry on a bare document (what the script needs of a session), with warnings kept. */
const setup = () => {
  const doc = new Y.Doc()
  const awareness = new Awareness(doc)
  const undo = createUndoManagers()
  const warnings: string[] = []
  const fields: FieldBindings = createFieldBindings({
    session: {
      awareness,
      getText: (field) => doc.getText(field),
      undoManager: (type, origins) => undo.get(type, origins),
    },
    document,
    warn: (message) => warnings.push(message),
  })
  cleanups.push(() => {
    fields.destroy()
    undo.destroy()
    awareness.destroy()
    doc.destroy()
  })
  /** A change by another user. */
  const remoteInsert = (field: string, text: string) =>
    doc.transact(() => doc.getText(field).insert(0, text), REMOTE)
  const bound = () => fields.bindings().map(({ fieldId, kind }) => `${fieldId}:${kind}`)
  return { doc, fields, warnings, remoteInsert, bound }
}

/**
 * Resolves after the next batch of DOM mutations was delivered to every observer created before
 * this call (observers are called in creation order), so the registry has seen it.
 */
const nextMutations = () =>
  new Promise<void>((resolve) => {
    const observer = new MutationObserver(() => {
      observer.disconnect()
      resolve()
    })
    observer.observe(document, { childList: true, subtree: true, attributes: true })
  })

const textarea = (field: string | undefined, value = '') => {
  const element = document.createElement('textarea')
  if (field !== undefined) element.setAttribute('data-coedit', field)
  element.value = value
  return element
}

/** What a browser does for typing: change `value`, fire `input`. */
const typeInto = (element: HTMLTextAreaElement, value: string) => {
  element.value = value
  element.dispatchEvent(new InputEvent('input', { bubbles: true }))
}

describe('field bindings', () => {
  it('binds every marked element present when watching starts, seeding from the page', () => {
    const summary = textarea('summary', 'hello')
    const body = document.createElement('div')
    body.setAttribute('contenteditable', '')
    body.setAttribute('data-coedit', 'body')
    document.body.append(summary, body, textarea(undefined, 'unmarked'))
    const { fields, doc, bound } = setup()
    fields.watch()
    expect(bound()).toEqual(['summary:text-field', 'body:content-editable'])
    expect(doc.getText('summary').toString()).toBe('hello')
  })

  it('binds marked elements added later, and unbinds them when removed', async () => {
    const { fields, bound, remoteInsert, doc } = setup()
    fields.watch()
    const late = textarea('late')
    const wrapper = document.createElement('section')
    wrapper.append(late)
    let delivered = nextMutations()
    document.body.append(wrapper)
    await delivered
    expect(bound()).toEqual(['late:text-field'])
    remoteInsert('late', 'from a peer')
    expect(late.value).toBe('from a peer')

    delivered = nextMutations()
    wrapper.remove()
    await delivered
    expect(bound()).toEqual([])
    remoteInsert('late', '!')
    expect(late.value).toBe('from a peer')
    typeInto(late, 'local only')
    expect(doc.getText('late').toString()).toBe('!from a peer')
  })

  it('keeps the binding of an element moved within the page', async () => {
    const { fields, bound, remoteInsert } = setup()
    const moving = textarea('notes')
    const [from, to] = [document.createElement('div'), document.createElement('div')]
    from.append(moving)
    document.body.append(from, to)
    fields.watch()
    const [before] = fields.bindings()
    const delivered = nextMutations()
    to.append(moving)
    await delivered
    expect(bound()).toEqual(['notes:text-field'])
    expect(fields.bindings()[0]).toBe(before)
    remoteInsert('notes', 'still bound')
    expect(moving.value).toBe('still bound')
  })

  it('follows data-coedit: a new field id rebinds, removing the attribute unbinds', async () => {
    const { fields, bound, remoteInsert } = setup()
    const element = textarea('a')
    document.body.append(element)
    fields.watch()
    let delivered = nextMutations()
    element.setAttribute('data-coedit', 'b')
    await delivered
    expect(bound()).toEqual(['b:text-field'])
    remoteInsert('b', 'B')
    expect(element.value).toBe('B')

    delivered = nextMutations()
    element.removeAttribute('data-coedit')
    await delivered
    expect(bound()).toEqual([])
  })

  it('unbinds a field that turns into a password field, and warns naming it', async () => {
    const { fields, bound, warnings } = setup()
    const input = document.createElement('input')
    input.setAttribute('data-coedit', 'secret')
    document.body.append(input)
    fields.watch()
    expect(bound()).toEqual(['secret:text-field'])
    const delivered = nextMutations()
    input.type = 'password'
    await delivered
    expect(bound()).toEqual([])
    expect(warnings).toEqual([expect.stringMatching(/field "secret".*password/)])
  })

  it('refuses sensitive and non-text fields with one warning each, naming the field', async () => {
    const { fields, bound, warnings, doc } = setup()
    const password = document.createElement('input')
    password.type = 'password'
    password.value = 'hunter2'
    password.setAttribute('data-coedit', 'pin')
    const card = document.createElement('input')
    card.setAttribute('autocomplete', 'cc-number')
    card.setAttribute('data-coedit', 'card')
    const plain = document.createElement('div')
    plain.setAttribute('data-coedit', 'nothing')
    document.body.append(password, card, plain, textarea(''))
    fields.watch()
    expect(bound()).toEqual([])
    expect(warnings).toEqual([
      expect.stringMatching(/field "pin": .*password/),
      expect.stringMatching(/field "card": .*cc-number/),
      expect.stringMatching(/field "nothing": /),
      expect.stringMatching(/data-coedit needs a field id/),
    ])
    expect(doc.getText('pin').length).toBe(0)
    // A later batch does not repeat them.
    const delivered = nextMutations()
    document.body.append(document.createElement('p'))
    await delivered
    expect(warnings).toHaveLength(4)
  })

  it("binds a Quill container once the page's Quill has created its editor", async () => {
    pageWindow.Quill = Quill
    const { fields, bound, warnings, remoteInsert } = setup()
    const container = document.createElement('div')
    container.className = 'ql-container'
    container.setAttribute('data-coedit', 'notes')
    document.body.append(container)
    fields.watch()
    expect(bound()).toEqual([])
    expect(warnings).toEqual([expect.stringMatching(/field "notes": .*Quill/)])
    const delivered = nextMutations()
    const quill = new Quill(container)
    await delivered
    expect(bound()).toEqual(['notes:quill'])
    remoteInsert('notes', 'shared')
    expect(quill.getText()).toBe('shared\n')
  })

  it('bind() binds an unmarked element, is idempotent per field, and throws on refusal', () => {
    const { fields, remoteInsert } = setup()
    const element = textarea(undefined)
    document.body.append(element)
    const binding = fields.bind(element, 'manual')
    expect(binding).toMatchObject({ element, fieldId: 'manual', kind: 'text-field' })
    expect(fields.bind(element, 'manual')).toBe(binding)
    remoteInsert('manual', 'x')
    expect(element.value).toBe('x')
    binding.destroy()
    expect(fields.bindings()).toEqual([])

    const password = document.createElement('input')
    password.type = 'password'
    expect(() => fields.bind(password, 'pw')).toThrow(CoeditError)
    expect(() => fields.bind(password, 'pw')).toThrow(/field "pw": .*password/)
    expect(() => fields.bind(element, '')).toThrow(/fieldId/)
  })

  it('destroy() unbinds everything, stops observing and refuses further binds', async () => {
    const { fields, bound, doc, remoteInsert } = setup()
    const early = textarea('early', 'seed')
    document.body.append(early)
    fields.watch()
    expect(bound()).toEqual(['early:text-field'])
    fields.destroy()
    expect(bound()).toEqual([])

    typeInto(early, 'typed after destroy')
    expect(doc.getText('early').toString()).toBe('seed')
    remoteInsert('early', '>')
    expect(early.value).toBe('typed after destroy')

    const delivered = nextMutations()
    document.body.append(textarea('after', 'page text'))
    await delivered
    expect(bound()).toEqual([])
    expect(doc.getText('after').length).toBe(0)
    expect(() => fields.bind(early, 'early')).toThrow(/destroyed/)
    fields.destroy() // idempotent
  })
})

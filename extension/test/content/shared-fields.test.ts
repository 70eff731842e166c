// @vitest-environment happy-dom
/**
 * Shared fields end to end between two users, each with a page (a window of their own), a
 * replica, a fake session host, and the two hosts' documents linked as a room would link them:
 * a picked field reaches the joiner's copy of the page and replaces (never merges with) what the
 * joiner had; nothing is bound before the replica is synced; Quill goes through the bridge; fields
 * not found are reported and bound once they appear; everything unbinds on destroy.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { createReplica } from '../../src/content/replica.js'
import {
  createSharedFields,
  FIELD_TEXT_PREFIX,
  FIELDS_MAP,
  type BindPageQuill,
  type SharedFieldsOptions,
} from '../../src/content/shared-fields.js'
import { createFakeHost } from './helpers/fake-host.js'
import { createPortNetwork } from './helpers/fake-port.js'
import { $, openPage } from './helpers/page.js'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const ROOM = Symbol('room')
/** Links two host documents as the relay or WebRTC would. */
const link = (a: Y.Doc, b: Y.Doc) => {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a), ROOM)
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b), ROOM)
  a.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== ROOM) Y.applyUpdate(b, update, ROOM)
  })
  b.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== ROOM) Y.applyUpdate(a, update, ROOM)
  })
}

const network = createPortNetwork()

/** Lets microtask-scheduled refreshes and port deliveries run to the end. */
const settle = async () => {
  for (let round = 0; round < 5; round++) {
    await network.idle()
    await Promise.resolve()
  }
}

interface UserOptions {
  readonly hostDoc?: Y.Doc
  readonly bindQuill?: BindPageQuill
  readonly injectQuillBridge?: SharedFieldsOptions['injectQuillBridge']
  readonly warn?: (message: string) => void
  /** Connect the replica to the host now (default true). */
  readonly connect?: boolean
}

const user = (html: string, options: UserOptions = {}) => {
  const page = openPage(html)
  const [content, hostEnd] = network.pair()
  const host = createFakeHost(hostEnd, options.hostDoc)
  const replica = createReplica()
  const fields = createSharedFields({
    replica,
    document: page.document,
    injectQuillBridge: options.injectQuillBridge ?? (() => Promise.resolve()),
    bindQuill:
      options.bindQuill ??
      (() => {
        throw new Error('no Quill in this test')
      }),
    warn: options.warn ?? (() => undefined),
  })
  cleanups.push(
    page.close,
    () => host.destroy(),
    () => replica.destroy(),
    () => fields.destroy(),
  )
  if (options.connect !== false) replica.connect(content)
  return { page: page.document, host, replica, fields, connect: () => replica.connect(content) }
}

/** Types `text` at the end of a text field, as the browser does. */
const typeInto = (element: HTMLTextAreaElement | HTMLInputElement, text: string) => {
  const view = element.ownerDocument.defaultView as unknown as typeof globalThis
  const proto = Object.getPrototypeOf(element) as object
  Object.getOwnPropertyDescriptor(proto, 'value')?.set?.call(element, element.value + text)
  element.setSelectionRange(element.value.length, element.value.length)
  element.dispatchEvent(new view.Event('input', { bubbles: true }))
}

const SHARER_PAGE = `<main id="app"><label>Summary <textarea>draft from the sharer</textarea></label></main>`
const JOINER_PAGE = `<div class="cookie-banner">Cookies!</div>
  <main id="app"><label>Summary <textarea>the joiner's own text</textarea></label></main>`

const textOf = (doc: Y.Doc, id: string) => doc.getText(FIELD_TEXT_PREFIX + id).toString()

describe('shared fields', () => {
  it("shares a picked textarea: the joiner's copy shows the sharer's text and edits flow both ways", async () => {
    const sharer = user(SHARER_PAGE)
    const joiner = user(JOINER_PAGE)
    link(sharer.host.doc, joiner.host.doc)
    await settle()

    const area = $<HTMLTextAreaElement>('textarea', sharer.page)
    const id = await sharer.fields.share({ kind: 'text-field', element: area })
    expect(id).toMatch(/^[A-Za-z0-9_-]{8}$/)
    expect(sharer.fields.isShared(area)).toBe(true)
    await settle()

    const joined = $<HTMLTextAreaElement>('textarea', joiner.page)
    expect(joined.value).toBe('draft from the sharer')
    expect(textOf(joiner.host.doc, id)).toBe('draft from the sharer') // not merged with the joiner's
    expect(joiner.host.doc.getMap(FIELDS_MAP).get(id)).toMatchObject({
      kind: 'text-field',
      label: 'Summary',
    })

    typeInto(joined, ' + joiner')
    await settle()
    expect(area.value).toBe('draft from the sharer + joiner')
    typeInto(area, ' + sharer')
    await settle()
    expect(joined.value).toBe('draft from the sharer + joiner + sharer')
    expect(joiner.fields.problems()).toEqual([])
  })

  it('binds nothing before the replica is synced with the host', async () => {
    const joiner = user(JOINER_PAGE, { connect: false })
    // The replica knows of the field before it has the host's state.
    joiner.replica.doc.getMap(FIELDS_MAP).set('abcdefgh', {
      v: 1,
      kind: 'text-field',
      tag: 'textarea',
      label: 'Summary',
      path: { steps: [] },
    })
    await settle()
    const area = $<HTMLTextAreaElement>('textarea', joiner.page)
    typeInto(area, '!')
    await settle()
    // Unbound: neither the page's text nor the typing went into the shared text.
    expect(textOf(joiner.replica.doc, 'abcdefgh')).toBe('')

    joiner.host.doc.getText(FIELD_TEXT_PREFIX + 'abcdefgh').insert(0, 'from the room')
    joiner.connect()
    await settle()
    expect(area.value).toBe('from the room')
    expect(textOf(joiner.host.doc, 'abcdefgh')).toBe('from the room')
  })

  it("posts a picked field's text before its entry, so a joiner never adds its own copy", async () => {
    const sharer = user(SHARER_PAGE)
    const joiner = user(JOINER_PAGE)
    await settle()
    // The room delivers the sharer's updates one at a time, each fully handled before the next.
    const queue: Uint8Array[] = []
    sharer.host.doc.on('update', (update: Uint8Array) => queue.push(update))
    const id = await sharer.fields.share({
      kind: 'text-field',
      element: $('textarea', sharer.page),
    })
    expect(queue.length).toBeGreaterThan(1)
    for (const update of queue) {
      Y.applyUpdate(joiner.host.doc, update, ROOM)
      await settle()
    }
    expect(textOf(joiner.host.doc, id)).toBe('draft from the sharer')
    expect($<HTMLTextAreaElement>('textarea', joiner.page).value).toBe('draft from the sharer')
  })

  it('reports a field it cannot find, and binds it once the page shows it', async () => {
    const sharer = user(SHARER_PAGE)
    const joiner = user(`<main id="app"><p>Loading…</p></main>`)
    link(sharer.host.doc, joiner.host.doc)
    const problems = vi.fn()
    joiner.fields.on('problems', problems)
    await sharer.fields.share({ kind: 'text-field', element: $('textarea', sharer.page) })
    await settle()
    expect(joiner.fields.problems()).toEqual([
      'Could not find the field "Summary" (textarea) on this page — the page may differ from the sharer\'s',
    ])
    expect(problems).toHaveBeenCalledTimes(1)

    // The single-page app renders the form.
    const label = joiner.page.createElement('label')
    label.append('Summary ', joiner.page.createElement('textarea'))
    $('main', joiner.page).replaceChildren(label)
    await settle()
    expect($<HTMLTextAreaElement>('textarea', joiner.page).value).toBe('draft from the sharer')
    expect(joiner.fields.problems()).toEqual([])
    expect(problems).toHaveBeenLastCalledWith({ problems: [] })
  })

  it('rebinds when the page replaces the bound element', async () => {
    const sharer = user(SHARER_PAGE)
    await sharer.fields.share({ kind: 'text-field', element: $('textarea', sharer.page) })
    await settle()
    const fresh = sharer.page.createElement('textarea')
    $('label', sharer.page).replaceChildren('Summary ', fresh)
    await settle()
    expect(fresh.value).toBe('draft from the sharer')
    typeInto(fresh, '!')
    expect(sharer.replica.doc.getText(FIELD_TEXT_PREFIX + (await idOf(sharer))).toString()).toBe(
      'draft from the sharer!',
    )
  })

  it('shares a contenteditable element', async () => {
    const html = `<div contenteditable="true" aria-label="Notes"><p>rich <b>text</b></p></div>`
    const sharer = user(html)
    const joiner = user(`<div contenteditable="true" aria-label="Notes"><p>old</p></div>`)
    link(sharer.host.doc, joiner.host.doc)
    const id = await sharer.fields.share({
      kind: 'content-editable',
      element: $('[contenteditable]', sharer.page),
    })
    await settle()
    expect(textOf(joiner.host.doc, id)).toBe('rich text\n')
    expect($('[contenteditable]', joiner.page).textContent).toBe('rich text')
  })

  it('loads the Quill bridge once, binds Quill editors through it, and adds the entry once ready', async () => {
    const calls: string[] = []
    const ready = new Map<string, () => void>()
    /** A stand-in for bindPageQuill whose `ready` the test settles. */
    const fakeQuill =
      (log: string[], doc: () => Y.Doc): BindPageQuill =>
      (ytext, container, options) => {
        const own = ytext === doc().getText(options?.field ?? '')
        log.push(`bind ${container.id} ${own} ${options?.awareness === undefined ? '' : 'aware'}`)
        return {
          ready: new Promise<void>((resolve) =>
            ready.set(`${log === calls}:${container.id}`, resolve),
          ),
          destroy: () => log.push(`destroy ${container.id}`),
        }
      }
    const quills = `<div id="one" class="ql-container"><div class="ql-editor" contenteditable></div></div>
      <div id="two" class="ql-container"><div class="ql-editor" contenteditable></div></div>`
    const sharer = user(quills, {
      bindQuill: fakeQuill(calls, () => sharer.replica.doc),
      injectQuillBridge: () => {
        calls.push('inject')
        return Promise.resolve()
      },
    })
    const joinerCalls: string[] = []
    const joiner = user(quills, {
      bindQuill: fakeQuill(joinerCalls, () => joiner.replica.doc),
      injectQuillBridge: () => {
        joinerCalls.push('inject')
        return Promise.resolve()
      },
    })
    link(sharer.host.doc, joiner.host.doc)
    await settle()

    const first = sharer.fields.share({ kind: 'quill', element: $('#one', sharer.page) })
    await settle()
    expect(calls).toEqual(['inject', 'bind one true aware'])
    // Not in the map until the page's editor is bound (and has seeded the text).
    expect(sharer.replica.doc.getMap(FIELDS_MAP).size).toBe(0)
    ready.get('true:one')?.()
    const id = await first
    const second = sharer.fields.share({ kind: 'quill', element: $('#two', sharer.page) })
    await settle()
    ready.get('true:two')?.()
    await second
    await settle()
    expect(sharer.replica.doc.getMap(FIELDS_MAP).has(id)).toBe(true)
    expect(calls.filter((call) => call === 'inject')).toHaveLength(1)
    expect(joinerCalls).toEqual(['inject', 'bind one true aware', 'bind two true aware'])
    joiner.fields.destroy()
    expect(joinerCalls.slice(3)).toEqual(['destroy one', 'destroy two'])
  })

  it('reports a Quill editor that could not be bound, without retrying it in a loop', async () => {
    const quill = `<div id="one" class="ql-container"><div class="ql-editor" contenteditable></div></div>`
    const hostDoc = new Y.Doc()
    hostDoc.getMap(FIELDS_MAP).set('quill001', {
      v: 1,
      kind: 'quill',
      tag: 'div',
      id: 'one',
      path: { steps: ['div:1'] },
    })
    const bindQuill = vi.fn<BindPageQuill>(() => ({
      ready: Promise.reject(new Error('no Quill instance on this element')),
      destroy: () => undefined,
    }))
    const joiner = user(quill, { hostDoc, bindQuill })
    await settle()
    expect(joiner.fields.problems()).toEqual([
      'Could not share the field "one" (Quill editor): no Quill instance on this element',
    ])
    // The page changes elsewhere, another field is shared: the editor is not tried again.
    joiner.page.body.append(joiner.page.createElement('p'))
    hostDoc.getMap(FIELDS_MAP).set('other001', {
      v: 1,
      kind: 'text-field',
      tag: 'textarea',
      path: { steps: ['textarea:1'] },
    })
    await settle()
    expect(bindQuill).toHaveBeenCalledTimes(1)
    expect(joiner.fields.problems()).toHaveLength(2)
  })

  it('reports a Quill bridge that could not be loaded', async () => {
    const quill = `<div id="one" class="ql-container"><div class="ql-editor" contenteditable></div></div>`
    const hostDoc = new Y.Doc()
    hostDoc.getMap(FIELDS_MAP).set('quill001', {
      v: 1,
      kind: 'quill',
      tag: 'div',
      id: 'one',
      path: { steps: ['div:1'] },
    })
    const joiner = user(quill, {
      hostDoc,
      injectQuillBridge: () => Promise.reject(new Error('Extension context invalidated.')),
    })
    await settle()
    expect(joiner.fields.problems()).toEqual([
      'Could not reach the field "one" (Quill editor): Extension context invalidated.',
    ])
  })

  it('ignores unreadable entries others wrote, warning once, and never binds secrets', async () => {
    const warn = vi.fn()
    const hostDoc = new Y.Doc()
    const map = hostDoc.getMap(FIELDS_MAP)
    map.set('bad', { v: 1, kind: 'password', tag: 'input', path: { steps: [] } })
    map.set('sneaky01', { v: 1, kind: 'text-field', tag: 'input', id: 'pw', path: { steps: [] } })
    const joiner = user(`<input id="pw" type="password" value="hunter2">`, { hostDoc, warn })
    await settle()
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0]?.[0]).toMatch(/ignoring shared field "bad"/)
    expect(joiner.fields.problems()).toEqual([
      'A shared field could not be read (shared by a different Coedit version?)',
      'Could not find the field "pw" (text input) on this page — the page may differ from the sharer\'s',
    ])
    expect(textOf(joiner.replica.doc, 'sneaky01')).toBe('')
    hostDoc.getText('x').insert(0, 'more') // another refresh: still one warning
    await settle()
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('returns the existing id for a field already shared', async () => {
    const sharer = user(SHARER_PAGE)
    const area = $('textarea', sharer.page)
    const first = await sharer.fields.share({ kind: 'text-field', element: area })
    const second = await sharer.fields.share({ kind: 'text-field', element: area })
    expect(second).toBe(first)
    expect(sharer.replica.doc.getMap(FIELDS_MAP).size).toBe(1)
  })

  it('unbinds everything on destroy and leaves the page as it is', async () => {
    const sharer = user(SHARER_PAGE)
    const area = $<HTMLTextAreaElement>('textarea', sharer.page)
    const id = await sharer.fields.share({ kind: 'text-field', element: area })
    await settle()
    sharer.fields.destroy()
    typeInto(area, ' after')
    sharer.host.doc.getText(FIELD_TEXT_PREFIX + id).insert(0, 'remote ')
    await settle()
    expect(area.value).toBe('draft from the sharer after')
    expect(textOf(sharer.replica.doc, id)).toBe('remote draft from the sharer')
    await expect(sharer.fields.share({ kind: 'text-field', element: area })).rejects.toThrow(
      /destroyed/,
    )
  })

  it('rejects a pending share when destroyed before the replica synced', async () => {
    const sharer = user(SHARER_PAGE, { connect: false })
    const pending = sharer.fields.share({ kind: 'text-field', element: $('textarea', sharer.page) })
    sharer.fields.destroy()
    await expect(pending).rejects.toThrow(/destroyed/)
  })
})

/** The one field id of `someone`'s shared map. */
const idOf = async (someone: { replica: { doc: Y.Doc } }) => {
  await Promise.resolve()
  const [id] = Array.from(someone.replica.doc.getMap(FIELDS_MAP).keys())
  if (id === undefined) throw new Error('nothing shared')
  return id
}

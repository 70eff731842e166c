// @vitest-environment happy-dom
/**
 * One run of the content script with a fake runtime and a fake host: connecting, picking a field
 * from the popup's request, presence in the panel, and stopping — the share ended, the extension
 * reloaded under the page, the tab not shared — with the page's DOM left as it was; a port lost
 * after a sync is replaced without losing edits.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { findEditableFields } from '../../src/content/editable-fields.js'
import { INVALIDATED_NOTICE, NOT_SHARED_NOTICE, startContent } from '../../src/content/lifecycle.js'
import { PANEL_ATTRIBUTE } from '../../src/content/presence-panel.js'
import { PICKER_ATTRIBUTE } from '../../src/content/picker.js'
import {
  FIELD_TEXT_PREFIX,
  FIELDS_MAP,
  type BindPageQuill,
} from '../../src/content/shared-fields.js'
import { DOC_PORT } from '../../src/shared/messages.js'
import { createFakeHost, type FakeHost } from './helpers/fake-host.js'
import { createPortNetwork, type FakePort } from './helpers/fake-port.js'
import { createFakeRuntime } from './helpers/fake-runtime.js'
import { $, setPage } from './helpers/page.js'

const network = createPortNetwork()
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
  document.body.replaceChildren()
})

const settle = async () => {
  for (let round = 0; round < 5; round++) {
    await network.idle()
    await Promise.resolve()
  }
}

const PAGE = `<form id="f"><label>Summary <textarea name="summary">page text</textarea></label>
  <input type="password" name="pw"></form>`

/** A run on PAGE; `hosts` gets a fake host per port the run opens, on one shared host doc. */
const start = (options: { answer?: boolean; page?: string; bindQuill?: BindPageQuill } = {}) => {
  setPage(options.page ?? PAGE)
  const hostDoc = new Y.Doc()
  const hosts: FakeHost[] = []
  const ends: FakePort[] = []
  const runtime = createFakeRuntime(network, (end) => {
    ends.push(end)
    if (options.answer !== false) hosts.push(createFakeHost(end, hostDoc))
  })
  const warn = vi.fn()
  const app = startContent({
    runtime,
    document,
    warn,
    bindQuill:
      options.bindQuill ??
      (() => {
        throw new Error('no Quill here')
      }),
  })
  cleanups.push(() => {
    app.destroy()
    for (const host of hosts) host.destroy()
  })
  const host = () => {
    const last = hosts.at(-1)
    if (last === undefined) throw new Error('no host connected')
    return last
  }
  return { app, runtime, hostDoc, host, ends, warn }
}

const panel = () => $(`[${PANEL_ATTRIBUTE}]`)
const notice = () => panel().shadowRoot?.querySelector('.notice')?.textContent

/** Sends the popup's pick request and clicks the outline of `element`. */
const pick = async (runtime: ReturnType<typeof createFakeRuntime>, element: Element) => {
  await expect(runtime.send({ type: 'coedit:pick' })).resolves.toEqual({ ok: true })
  const index = findEditableFields(document).findIndex((field) => field.element === element)
  const box = $(`[${PICKER_ATTRIBUTE}]`).shadowRoot?.querySelector<HTMLElement>(
    `[data-field-index="${index}"]`,
  )
  if (box == null) throw new Error('no outline for that element')
  box.click()
  await settle()
}

const typeInto = (element: HTMLTextAreaElement, text: string) => {
  Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')?.set?.call(
    element,
    element.value + text,
  )
  element.dispatchEvent(new Event('input', { bubbles: true }))
}

describe('content script run', () => {
  it('connects the doc port, shows presence, and shares the field picked on request', async () => {
    const { runtime, hostDoc, host } = start()
    expect(runtime.connected).toEqual([DOC_PORT])
    expect(panel().getAttribute('data-state')).toBe('connecting')
    await settle()
    host().status({ peers: [{ name: 'Ada', color: '#0a0', transport: 'relay' }] })
    await settle()
    expect(panel().getAttribute('data-names')).toBe('["Ada"]')

    await pick(runtime, $('textarea'))
    expect(document.querySelector(`[${PICKER_ATTRIBUTE}]`)).toBeNull()
    const [id] = Array.from(hostDoc.getMap(FIELDS_MAP).keys())
    expect(hostDoc.getText(FIELD_TEXT_PREFIX + (id ?? '')).toString()).toBe('page text')
    typeInto($('textarea'), '!')
    await settle()
    expect(hostDoc.getText(FIELD_TEXT_PREFIX + (id ?? '')).toString()).toBe('page text!')
    expect(runtime.sendMessage).not.toHaveBeenCalled() // no Quill, no bridge
  })

  it('asks the background for the Quill bridge before binding a picked Quill editor', async () => {
    const bindQuill = vi.fn<BindPageQuill>(() => ({
      ready: Promise.resolve(),
      destroy: () => undefined,
    }))
    const page = `<div id="q" class="ql-container"><div class="ql-editor" contenteditable="true"></div></div>`
    const { runtime, hostDoc } = start({ page, bindQuill })
    await settle()
    await pick(runtime, $('.ql-container'))
    await settle()
    expect(runtime.sendMessage).toHaveBeenCalledWith({ type: 'coedit:inject-quill-bridge' })
    expect(bindQuill).toHaveBeenCalledTimes(1)
    expect(bindQuill.mock.calls[0]?.[1]).toBe($('.ql-container'))
    expect(Array.from(hostDoc.getMap(FIELDS_MAP).values())).toEqual([
      expect.objectContaining({ kind: 'quill', id: 'q' }),
    ])
  })

  it('ignores messages that are not a pick request', async () => {
    const { runtime } = start()
    await expect(runtime.send({ type: 'coedit:other' })).resolves.toBeUndefined()
    await expect(runtime.send('coedit:pick')).resolves.toBeUndefined()
    expect(document.querySelector(`[${PICKER_ATTRIBUTE}]`)).toBeNull()
  })

  it('stops when the share ends: bindings gone, page DOM kept, the panel says so', async () => {
    const { app, runtime, hostDoc, host } = start()
    await settle()
    await pick(runtime, $('textarea'))
    const [id = ''] = Array.from(hostDoc.getMap(FIELDS_MAP).keys())
    void runtime.send({ type: 'coedit:pick' }) // a picker open when the share ends goes too
    host().end('the sharer stopped sharing')
    await settle()
    expect(app.active).toBe(false)
    expect(notice()).toBe('Sharing stopped on this page: the sharer stopped sharing')
    expect(document.querySelector(`[${PICKER_ATTRIBUTE}]`)).toBeNull()
    typeInto($('textarea'), ' later')
    await settle()
    expect($<HTMLTextAreaElement>('textarea').value).toBe('page text later')
    expect(hostDoc.getText(FIELD_TEXT_PREFIX + id).toString()).toBe('page text')
    await expect(runtime.send({ type: 'coedit:pick' })).resolves.toBeUndefined()
  })

  it('stops with the reload notice when the extension is reloaded under the page', async () => {
    const { app, runtime, hostDoc, ends } = start()
    await settle()
    await pick(runtime, $('textarea'))
    const [id = ''] = Array.from(hostDoc.getMap(FIELDS_MAP).keys())
    const before = document.body.querySelector('form')?.outerHTML
    runtime.invalidate()
    ends[0]?.disconnect()
    await settle()
    expect(app.active).toBe(false)
    expect(notice()).toBe(INVALIDATED_NOTICE)
    expect(panel().getAttribute('data-state')).toBe('stopped')
    expect(document.body.querySelector('form')?.outerHTML).toBe(before)
    expect(runtime.connected).toHaveLength(1) // no reconnect attempt
    hostDoc.getText(FIELD_TEXT_PREFIX + id).insert(0, 'remote ')
    await settle()
    expect($<HTMLTextAreaElement>('textarea').value).toBe('page text')
  })

  it('notices a reload whose port never disconnects (Chromium leaves orphans connected)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const { app, runtime } = start()
      await settle()
      runtime.invalidate()
      expect(app.active).toBe(true)
      vi.advanceTimersByTime(2_000)
      expect(app.active).toBe(false)
      expect(notice()).toBe(INVALIDATED_NOTICE)
    } finally {
      vi.useRealTimers()
    }
  })

  it('reads "Extension context invalidated" from the disconnect error too', async () => {
    const { app, runtime, ends } = start()
    await settle()
    runtime.lastError = 'Extension context invalidated.'
    ends[0]?.disconnect()
    await settle()
    expect(app.active).toBe(false)
    expect(notice()).toBe(INVALIDATED_NOTICE)
  })

  it('replaces a port lost after a sync, keeping edits made meanwhile', async () => {
    const { app, runtime, hostDoc, ends } = start()
    await settle()
    await pick(runtime, $('textarea'))
    const [id = ''] = Array.from(hostDoc.getMap(FIELDS_MAP).keys())
    ends[0]?.disconnect() // Chrome stopped the idle service worker
    typeInto($('textarea'), ' offline')
    await settle()
    expect(app.active).toBe(true)
    expect(runtime.connected).toEqual([DOC_PORT, DOC_PORT])
    expect(hostDoc.getText(FIELD_TEXT_PREFIX + id).toString()).toBe('page text offline')
  })

  it('stops when the background refuses the port (the tab is not shared)', async () => {
    const { app, ends } = start({ answer: false })
    ends[0]?.disconnect()
    await settle()
    expect(app.active).toBe(false)
    expect(notice()).toBe(NOT_SHARED_NOTICE)
  })

  it('destroy removes its panel and picker, so a new run can replace it', async () => {
    const { app, runtime } = start()
    await settle()
    void runtime.send({ type: 'coedit:pick' })
    app.destroy()
    expect(document.querySelector(`[${PANEL_ATTRIBUTE}]`)).toBeNull()
    expect(document.querySelector(`[${PICKER_ATTRIBUTE}]`)).toBeNull()
    expect(runtime.handlers.size).toBe(0)
  })
})

/**
 * `bindContentEditable` in real Chromium: two users in two browser contexts, each a session on a
 * real Coedit server (relay only) and a `<div contenteditable>` bound to `getText('doc')`, typing
 * with the real keyboard. Convergence, structural races, shortcuts, caret stability, IME, undo,
 * hostile peers and paste, double delivery and idleness (R2–R4, R7–R8, R31).
 */
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ContentEditableBinding } from '../../src/bindings/content-editable.js'
import type { Session } from '../../src/index.js'
import { startServer, type TestServer } from '../../../signaling-server/test/helpers/server.js'
import type { RichGlobals } from './fixtures/rich-entry.js'
import { buildBrowserBundle } from './helpers/bundle.js'
import { attachConsole } from './helpers/chromium.js'
import { useChromium } from './helpers/use-chromium.js'
import { startStaticServer, type StaticServer } from './helpers/static-server.js'

interface PageGlobals {
  coedit: RichGlobals
  session: Session
  editor: HTMLElement
  binding: ContentEditableBinding
  /** Document updates seen since the last reset. */
  updates: number
  __pwned?: unknown
}

const entry = fileURLToPath(new URL('./fixtures/rich-entry.ts', import.meta.url))

let server: TestServer
let web: StaticServer
const chromium = useChromium()

beforeAll(async () => {
  const bundle = await buildBrowserBundle(entry)
  web = await startStaticServer({
    '/index.html': `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
      <div id="editor" contenteditable="true" style="width: 600px"></div>
      <script type="module" src="/coedit.js"></script>`,
    '/coedit.js': bundle,
  })
  server = await startServer()
})
afterAll(async () => {
  await web?.close()
  await server?.close()
})

const openUser = async (name: string, room: string): Promise<Page> => {
  const context = await chromium.newContext()
  const page = await context.newPage()
  attachConsole(page, name)
  await page.goto(web.url)
  await page.waitForFunction(() => 'coedit' in globalThis)
  await page.evaluate(
    async ({ serverUrl, room, name }) => {
      const g = globalThis as unknown as PageGlobals
      g.session = g.coedit.createSession({
        server: serverUrl,
        room,
        user: { name, color: '#3366ff' },
        webrtc: false,
        iceServers: [],
        reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
      })
      await g.session.whenSynced()
      g.editor = document.getElementById('editor') as HTMLElement
      const ytext = g.session.getText('doc')
      g.binding = g.coedit.bindContentEditable(ytext, g.editor, {
        undoManager: g.session.undoManager(ytext),
        awareness: g.session.awareness,
      })
      g.updates = 0
      g.session.doc.on('update', () => g.updates++)
    },
    { serverUrl: server.url, room, name },
  )
  return page
}

const two = async (prefix: string) => {
  const room = `${prefix}-${randomUUID()}`
  const alice = await openUser('alice', room)
  const bob = await openUser('bob', room)
  return { alice, bob }
}

/** The model text and the DOM's line texts (joined the way the model joins them). */
const state = (page: Page) =>
  page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals
    const lines: string[] = []
    for (const child of Array.from(g.editor.children)) {
      if (child.tagName === 'UL' || child.tagName === 'OL') {
        for (const item of Array.from(child.children)) lines.push(item.textContent ?? '')
      } else lines.push(child.textContent ?? '')
    }
    return { model: g.session.getText('doc').toString(), dom: lines.map((l) => `${l}\n`).join('') }
  })

/** Waits until both pages hold the same model text, rendered in their DOM, and returns it. */
const converge = async (a: Page, b: Page): Promise<string> => {
  for (;;) {
    const [sa, sb] = await Promise.all([state(a), state(b)])
    const normal = (s: string) => (s.endsWith('\n') ? s : `${s}\n`)
    if (sa.model === sb.model && normal(sa.model) === sa.dom && normal(sb.model) === sb.dom) {
      return sa.model
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The editor's markup (its children's outerHTML: reading, never writing, markup). */
const markup = (page: Page) =>
  page.evaluate(() =>
    Array.from(
      (globalThis as unknown as PageGlobals).editor.children,
      (child) => child.outerHTML,
    ).join(''),
  )

const waitForModel = (page: Page, predicate: string) =>
  page.waitForFunction(
    (source) =>
      new Function('text', `return ${source}`)(
        (globalThis as unknown as PageGlobals).session.getText('doc').toString(),
      ) as boolean,
    predicate,
  )

const focusEnd = async (page: Page) => {
  await page.click('#editor')
  await page.keyboard.press('Control+End')
}

describe('bindContentEditable in Chromium', () => {
  it('converges when both users type in the same paragraph at once', async () => {
    const { alice, bob } = await two('typing')
    await focusEnd(alice)
    await alice.keyboard.type('hello ')
    await converge(alice, bob)
    await focusEnd(bob)
    await Promise.all([alice.keyboard.type('aaaaa'), bob.keyboard.type('bbbbb')])
    const text = await converge(alice, bob)
    expect(text.match(/a/g)).toHaveLength(5)
    expect(text.match(/b/g)).toHaveLength(5)
    expect(text.startsWith('hello ')).toBe(true)
  })

  it('converges without lost or duplicated characters when Enter and Backspace race', async () => {
    const { alice, bob } = await two('structure')
    await focusEnd(alice)
    await alice.keyboard.type('abcdef')
    await converge(alice, bob)
    for (const page of [alice, bob]) {
      await page.click('#editor')
      await page.keyboard.press('Home')
      for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight')
    }
    await Promise.all([alice.keyboard.press('Enter'), bob.keyboard.press('Backspace')])
    const text = await converge(alice, bob)
    expect(text.replace(/\n/g, '')).toBe('abdef')
    expect(text.split('\n').filter((line) => line.length > 0)).toEqual(['ab', 'def'])
  })

  it('keeps paragraphs typed one after another at the end of the text', async () => {
    const { alice, bob } = await two('paragraphs')
    await focusEnd(alice)
    await alice.keyboard.type('one')
    await alice.keyboard.press('Enter')
    await alice.keyboard.type('two')
    await alice.keyboard.press('Enter')
    await alice.keyboard.press('Enter')
    await alice.keyboard.type('four')
    expect(await converge(alice, bob)).toBe('one\ntwo\n\nfour\n')
    expect(await markup(bob)).toBe('<p>one</p><p>two</p><p><br></p><p>four</p>')
  })

  it('sends Ctrl+B to the other page as bold', async () => {
    const { alice, bob } = await two('bold')
    await focusEnd(alice)
    await alice.keyboard.type('hello world')
    for (let i = 0; i < 5; i++) await alice.keyboard.press('Shift+ArrowLeft')
    await alice.keyboard.press('Control+b')
    await bob.waitForFunction(() =>
      Array.from((globalThis as unknown as PageGlobals).editor.querySelectorAll('strong, b')).some(
        (node) => node.textContent === 'world',
      ),
    )
    const delta = await bob.evaluate(() =>
      (globalThis as unknown as PageGlobals).session.getText('doc').toDelta(),
    )
    expect(delta).toContainEqual({ insert: 'world', attributes: { bold: true } })
    expect(await markup(alice)).toBe('<p>hello <strong>world</strong></p>')
  })

  it('keeps the caret in place while the other user types before it', async () => {
    const { alice, bob } = await two('caret')
    await focusEnd(alice)
    await alice.keyboard.type('hello world')
    await converge(alice, bob)
    await bob.click('#editor')
    await bob.keyboard.press('End')
    for (let i = 0; i < 5; i++) await bob.keyboard.press('ArrowLeft')
    await alice.keyboard.press('Home')
    await alice.keyboard.type('XYZ ')
    await converge(alice, bob)
    const caret = await bob.evaluate(() => {
      const selection = document.getSelection()
      const paragraph = (globalThis as unknown as PageGlobals).editor.firstElementChild
      if (!selection?.anchorNode || !paragraph) return -1
      const range = document.createRange()
      range.setStart(paragraph, 0)
      range.setEnd(selection.anchorNode, selection.anchorOffset)
      return range.toString().length
    })
    expect(caret).toBe('XYZ hello '.length)
    await bob.keyboard.type('big ')
    expect(await converge(alice, bob)).toBe('XYZ hello big world')
  })

  it('draws the other user’s caret in the overlay and removes it on blur', async () => {
    const { alice, bob } = await two('cursors')
    await focusEnd(alice)
    await alice.keyboard.type('hello world')
    await alice.keyboard.press('Enter')
    await alice.keyboard.type('second line')
    await converge(alice, bob)
    /** Where Alice's page lays out the character boundary `offset` of line `line`. */
    const expectedAt = (line: number, offset: number) =>
      alice.evaluate(
        ({ line, offset }) => {
          const text = (globalThis as unknown as PageGlobals).editor.children[line]?.firstChild
          if (!text) return null
          const range = document.createRange()
          range.setStart(text, offset)
          const rect = range.getClientRects()[0]
          return rect ? { left: rect.left, top: rect.top } : null
        },
        { line, offset },
      )
    // What Alice's overlay draws for Bob (the binding hands the overlay exactly these boxes).
    const drawnForBob = () =>
      alice.evaluate(() => {
        const drawn = (globalThis as unknown as PageGlobals).binding.remoteCursors()
        const [cursor] = drawn
        if (drawn.length !== 1 || cursor?.name !== 'bob' || cursor.caret === null) return null
        const { left, top, height } = cursor.caret
        return { left, top, height, selection: cursor.selection.length }
      })
    const near = (
      drawn: { left: number; top: number } | null,
      expected: { left: number; top: number } | null,
    ) =>
      drawn !== null &&
      expected !== null &&
      Math.abs(drawn.left - expected.left) < 1 &&
      Math.abs(drawn.top - expected.top) < 1

    await bob.click('#editor')
    await bob.keyboard.press('Control+Home')
    for (let i = 0; i < 5; i++) await bob.keyboard.press('ArrowRight')
    const afterHello = await expectedAt(0, 5)
    await expect.poll(drawnForBob).toSatisfy((drawn) => near(drawn, afterHello))
    expect((await drawnForBob())?.height).toBeGreaterThan(10)
    // Down to the second line, then a selection of "second".
    await bob.keyboard.press('ArrowDown')
    await bob.keyboard.press('Home')
    const lineStart = await expectedAt(1, 0)
    await expect.poll(drawnForBob).toSatisfy((drawn) => near(drawn, lineStart))
    for (let i = 0; i < 6; i++) await bob.keyboard.press('Shift+ArrowRight')
    const afterSecond = await expectedAt(1, 6)
    await expect
      .poll(drawnForBob)
      .toSatisfy((drawn) => near(drawn, afterSecond) && drawn?.selection === 1)
    expect(await alice.evaluate(() => document.querySelectorAll('coedit-cursors').length)).toBe(1)

    // Bob leaves the editor: his cursor goes.
    await bob.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    await alice.waitForFunction(
      () => (globalThis as unknown as PageGlobals).binding.remoteCursors().length === 0,
    )
  })

  it('lets an IME composition finish while the other user types', async () => {
    const { alice, bob } = await two('ime')
    await focusEnd(alice)
    await alice.keyboard.type('start end')
    await converge(alice, bob)
    await bob.click('#editor')
    await bob.keyboard.press('End')
    const cdp = await bob.context().newCDPSession(bob)
    await cdp.send('Input.imeSetComposition', { text: 'に', selectionStart: 1, selectionEnd: 1 })
    await cdp.send('Input.imeSetComposition', { text: 'にほ', selectionStart: 2, selectionEnd: 2 })
    await alice.keyboard.press('Home')
    await alice.keyboard.type('remote ')
    // Bob's model has Alice's text while his composition is still open.
    await waitForModel(bob, "text.startsWith('remote ')")
    await cdp.send('Input.imeSetComposition', {
      text: 'にほん',
      selectionStart: 3,
      selectionEnd: 3,
    })
    await cdp.send('Input.insertText', { text: '日本' })
    const text = await converge(alice, bob)
    expect(text.replace(/\n$/, '')).toBe('remote start end日本')
  })

  it('undoes only the local user’s edits', async () => {
    const { alice, bob } = await two('undo')
    await focusEnd(alice)
    await alice.keyboard.type('alice')
    await alice.keyboard.press('Enter')
    await converge(alice, bob)
    await focusEnd(bob)
    await bob.keyboard.type('bob')
    await converge(alice, bob)
    await focusEnd(alice)
    await alice.keyboard.type('!!!')
    await converge(alice, bob)
    await alice.keyboard.press('Control+z')
    await waitForModel(bob, "!text.includes('!!!')")
    const text = await converge(alice, bob)
    expect(text).toContain('bob')
    expect(text).not.toContain('!')
  })

  it('renders only allowlisted markup from a hostile peer and executes nothing', async () => {
    const { alice, bob } = await two('hostile')
    await bob.evaluate(() => {
      const ytext = (globalThis as unknown as PageGlobals).session.getText('doc')
      ytext.insert(0, 'link', { link: 'javascript:window.__pwned=1' })
      ytext.insert(ytext.length, 'data', {
        link: 'data:text/html,<script>window.__pwned=1</script>',
      })
      ytext.insert(ytext.length, '<img src=x onerror="window.__pwned=1">', { script: 'x' })
      ytext.insert(ytext.length, '<script>window.__pwned=1</script>', { style: 'color:red' })
      ytext.insert(ytext.length, 'ok', { link: 'https://example.com/', bold: true })
      ytext.insert(ytext.length, '\n', { header: '<h1 onclick=x>', onclick: 'x' })
    })
    await waitForModel(alice, "text.includes('ok')")
    for (const page of [alice, bob]) {
      const dom = await page.evaluate(() => {
        const g = globalThis as unknown as PageGlobals
        return {
          pwned: g.__pwned,
          tags: Array.from(g.editor.querySelectorAll('*'), (node) => node.tagName),
          attributes: Array.from(g.editor.querySelectorAll('*')).flatMap((node) =>
            node.getAttributeNames().map((name) => `${name}=${node.getAttribute(name)}`),
          ),
        }
      })
      expect(dom.pwned).toBeUndefined()
      expect(dom.tags).toEqual(['P', 'A', 'STRONG'])
      expect(dom.attributes).toEqual(['href=https://example.com/'])
    }
  })

  it('sanitises pasted HTML', async () => {
    const { alice, bob } = await two('paste')
    await focusEnd(alice)
    await alice.keyboard.type('x')
    await alice.evaluate(() => {
      const data = new DataTransfer()
      data.setData(
        'text/html',
        '<b>bold</b><img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>' +
          '<a href="javascript:window.__pwned=1">js</a><p style="color:red" onclick="x">para</p>',
      )
      data.setData('text/plain', 'plain')
      const g = globalThis as unknown as PageGlobals
      g.editor.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      )
    })
    await waitForModel(bob, "text.includes('para')")
    const text = await converge(alice, bob)
    expect(text).toBe('xboldjs\npara')
    expect(
      await alice.evaluate(() => (globalThis as unknown as PageGlobals).__pwned),
    ).toBeUndefined()
    expect(await markup(alice)).toBe('<p>x<strong>bold</strong>js</p><p>para</p>')
  })

  it('does not touch the DOM when an update arrives a second time', async () => {
    const { alice, bob } = await two('twice')
    await focusEnd(bob)
    await bob.keyboard.type('once only')
    await converge(alice, bob)
    const update = await bob.evaluate(() => {
      const g = globalThis as unknown as PageGlobals
      return Array.from(g.coedit.Y.encodeStateAsUpdate(g.session.doc))
    })
    const records = await alice.evaluate(async (bytes) => {
      const g = globalThis as unknown as PageGlobals
      let count = 0
      const observer = new MutationObserver((list) => (count += list.length))
      observer.observe(g.editor, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      })
      g.coedit.Y.applyUpdate(g.session.doc, Uint8Array.from(bytes), 'relay-again')
      await new Promise((resolve) => requestAnimationFrame(resolve))
      count += observer.takeRecords().length
      observer.disconnect()
      return count
    }, update)
    expect(records).toBe(0)
  })

  it('produces no updates while the document is idle', async () => {
    const { alice, bob } = await two('idle')
    await focusEnd(alice)
    await alice.keyboard.type('some text')
    await alice.keyboard.press('Enter')
    await alice.keyboard.type('more')
    await converge(alice, bob)
    await bob.click('#editor')
    const reset = () => ((globalThis as unknown as PageGlobals).updates = 0)
    await Promise.all([alice.evaluate(reset), bob.evaluate(reset)])
    // An absence can only be observed over time: a second of idleness, both pages focused.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const counts = await Promise.all(
      [alice, bob].map((page) =>
        page.evaluate(() => (globalThis as unknown as PageGlobals).updates),
      ),
    )
    expect(counts).toEqual([0, 0])
  })
})

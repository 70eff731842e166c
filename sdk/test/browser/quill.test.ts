/**
 * `bindQuill` in real Chromium: each user is a browser context with a Quill 2 editor bound to
 * `session.getText('doc')` over a real Coedit server's relay, typing with real keyboard input.
 * Also a stock y-quill page (plain y-websocket provider), a hostile peer writing raw `Y.Text`
 * content from Node, and two users seeding the same page text at once.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import type Quill from 'quill'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Session, WebSocketConstructor } from '../../src/index.js'
import { createSession } from '../../src/index.js'
import type { QuillBindingHandle } from '../../src/bindings/quill.js'
import { startServer, type TestServer } from '../../../signaling-server/test/helpers/server.js'
import type { CoeditQuillGlobals } from './fixtures/quill-entry.js'
import { buildBrowserBundle } from './helpers/bundle.js'
import { attachConsole } from './helpers/chromium.js'
import { useChromium } from './helpers/use-chromium.js'
import { startStaticServer, type StaticServer } from './helpers/static-server.js'

interface PageGlobals {
  coeditQuill: CoeditQuillGlobals
  quill: Quill
  ytext: Y.Text
  session?: Session
  binding?: QuillBindingHandle
  __pwned?: unknown
}

/**
 * The page's globals. Functions passed to `page.evaluate` run in the page, where each test page
 * defines `g` the same way (an inline script), so they can call it too.
 */
const g = () => globalThis as unknown as PageGlobals

const entry = fileURLToPath(new URL('./fixtures/quill-entry.ts', import.meta.url))
const quillCss = readFileSync(
  createRequire(import.meta.url).resolve('quill/dist/quill.core.css'),
  'utf8',
)

const page = (body: string) =>
  `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
  <link rel="stylesheet" href="/quill.css"><script>globalThis.g = () => globalThis</script>
  <body>${body}
  <script type="module" src="/bundle.js"></script>`

let server: TestServer
let web: StaticServer
const chromium = useChromium()
const nodeSessions: Session[] = []

beforeAll(async () => {
  web = await startStaticServer({
    '/index.html': page('<div id="editor"></div>'),
    '/seeded.html': page('<div id="editor"><p>Hello <strong>world</strong></p></div>'),
    '/quill.css': quillCss,
    '/bundle.js': await buildBrowserBundle(entry),
  })
  server = await startServer()
})
afterEach(async () => {
  await Promise.all(nodeSessions.splice(0).map((session) => session.destroy()))
})
afterAll(async () => {
  await web?.close()
  await server?.close()
})

interface UserOptions {
  /** `seeded.html` starts the editor with `Hello <strong>world</strong>`. */
  readonly path?: '/' | '/seeded.html'
  /** Construct Quill with `modules: { cursors: true }` (default) or without the module. */
  readonly cursorsModule?: boolean
  /** Bind with `bindQuill` (default) or with stock y-quill on a plain y-websocket provider. */
  readonly binding?: 'coedit' | 'stock'
}

/** Opens a user's page with a Quill editor; resolves once `window.quill` exists. */
const openPage = async (name: string, path = '/'): Promise<Page> => {
  const context = await chromium.newContext()
  const page = await context.newPage()
  attachConsole(page, name)
  await page.goto(`${web.url}${path}`)
  await page.waitForFunction(() => 'coeditQuill' in globalThis)
  return page
}

/** Creates the editor, the session (relay only) and the binding in one task: no sync yet. */
const bindUser = (page: Page, name: string, room: string, options: UserOptions = {}) =>
  page.evaluate(
    ({ serverUrl, wsUrl, room, name, cursorsModule, binding }) => {
      const { coeditQuill } = g()
      const quill = new coeditQuill.Quill('#editor', {
        modules: { cursors: cursorsModule, toolbar: false },
      })
      g().quill = quill
      if (binding === 'stock') {
        const doc = new coeditQuill.Y.Doc()
        const provider = new coeditQuill.WebsocketProvider(`${wsUrl}/relay`, room, doc)
        provider.awareness.setLocalStateField('user', { name, color: '#cc3300' })
        g().ytext = doc.getText('doc')
        new coeditQuill.QuillBinding(g().ytext, quill, provider.awareness)
        return
      }
      const session = coeditQuill.createSession({
        server: serverUrl,
        room,
        user: { name, color: '#3366ff' },
        webrtc: false,
        offline: false,
        reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
      })
      g().session = session
      g().ytext = session.getText('doc')
      g().binding = coeditQuill.bindQuill(g().ytext, quill, { awareness: session.awareness })
    },
    {
      serverUrl: server.url,
      wsUrl: server.wsUrl,
      room,
      name,
      cursorsModule: options.cursorsModule ?? true,
      binding: options.binding ?? 'coedit',
    },
  )

const openUser = async (name: string, room: string, options: UserOptions = {}) => {
  const page = await openPage(name, options.path)
  await bindUser(page, name, room, options)
  return page
}

const editorText = (page: Page) => page.evaluate(() => g().quill.getText())
const sharedText = (page: Page) => page.evaluate(() => g().ytext.toString())

/** Focuses the editor with the caret at the end of the text. */
const focusEnd = (page: Page) =>
  page.evaluate(() => {
    const { quill } = g()
    quill.focus()
    quill.setSelection(quill.getLength() - 1, 0, 'user')
  })

const waitForEditorText = (page: Page, expected: string) =>
  page.waitForFunction((expected) => g().quill.getText() === `${expected}\n`, expected)

/** True when `part`'s characters occur in `whole` in order (concurrent typing may interleave). */
const isSubsequence = (part: string, whole: string) => {
  let at = 0
  for (const char of whole) if (char === part[at]) at++
  return at === part.length
}

const nodeSession = (room: string) => {
  const session = createSession({
    server: server.url,
    room,
    webrtc: false,
    offline: false,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  })
  nodeSessions.push(session)
  return session
}

describe('bindQuill in Chromium', () => {
  it('converges when two users type at the same time', async () => {
    const room = `quill-${randomUUID()}`
    const [alice, bob] = await Promise.all([openUser('alice', room), openUser('bob', room)])
    await alice.evaluate(() => g().session?.whenSynced())
    await bob.evaluate(() => g().session?.whenSynced())
    await Promise.all([focusEnd(alice), focusEnd(bob)])
    await Promise.all([
      alice.keyboard.type('alice was here', { delay: 15 }),
      bob.keyboard.type('bob too', { delay: 15 }),
    ])
    await expect
      .poll(async () => {
        const [a, b] = [await editorText(alice), await editorText(bob)]
        return a === b && a.length === 'alice was here'.length + 'bob too'.length + 1
      })
      .toBe(true)
    const text = await editorText(alice)
    expect(isSubsequence('alice was here', text)).toBe(true)
    expect(isSubsequence('bob too', text)).toBe(true)
    expect(await sharedText(bob)).toBe(text.slice(0, -1))
  })

  it('sends bold made with Ctrl+B to the other page', async () => {
    const room = `quill-${randomUUID()}`
    const [alice, bob] = await Promise.all([openUser('alice', room), openUser('bob', room)])
    await focusEnd(alice)
    await alice.keyboard.type('plain ')
    await alice.keyboard.press('Control+b')
    await alice.keyboard.type('bold')
    await bob.waitForFunction(() => g().ytext.toString() === 'plain bold')
    expect(await bob.evaluate(() => g().ytext.toDelta())).toEqual([
      { insert: 'plain ' },
      { insert: 'bold', attributes: { bold: true } },
    ])
    await bob.waitForFunction(
      () => document.querySelector('#editor .ql-editor strong')?.textContent === 'bold',
    )
  })

  it('undoes and redoes only the local user’s edits with the keyboard', async () => {
    const room = `quill-${randomUUID()}`
    const [alice, bob] = await Promise.all([openUser('alice', room), openUser('bob', room)])
    await focusEnd(alice)
    await alice.keyboard.type('alice')
    await waitForEditorText(bob, 'alice')
    await focusEnd(bob)
    await bob.keyboard.type(' bob')
    await waitForEditorText(alice, 'alice bob')

    await alice.keyboard.press('Control+z')
    await waitForEditorText(alice, ' bob')
    await waitForEditorText(bob, ' bob')
    await alice.keyboard.press('Control+Shift+z')
    await waitForEditorText(bob, 'alice bob')
    await alice.keyboard.press('Control+z')
    await waitForEditorText(bob, ' bob')
    await alice.keyboard.press('Control+y')
    await waitForEditorText(bob, 'alice bob')
    // The history module (toolbar handlers call it) also goes to the binding's undo manager.
    await bob.evaluate(() => g().quill.history.undo())
    await waitForEditorText(alice, 'alice')
  })

  it('shows the remote cursor, with or without a cursors module on the instance', async () => {
    const room = `quill-${randomUUID()}`
    const [alice, bob] = await Promise.all([
      openUser('alice', room),
      openUser('bob', room, { cursorsModule: false }),
    ])
    await focusEnd(alice)
    await alice.keyboard.type('hello')
    await focusEnd(bob)
    await bob.keyboard.type('!')
    // Bob's Quill had no cursors module: the binding loaded quill-cursors and drew Alice's.
    await bob.waitForFunction(
      () => document.querySelector('.ql-cursor .ql-cursor-name')?.textContent === 'alice',
    )
    await alice.waitForFunction(
      () => document.querySelector('.ql-cursor .ql-cursor-name')?.textContent === 'bob',
    )
  })

  it('converges with a stock y-quill peer on a plain y-websocket provider', async () => {
    const room = `quill-${randomUUID()}`
    const [alice, stock] = await Promise.all([
      openUser('alice', room),
      openUser('stock', room, { binding: 'stock' }),
    ])
    await focusEnd(alice)
    await alice.keyboard.type('from coedit')
    await waitForEditorText(stock, 'from coedit')
    await focusEnd(stock)
    await stock.keyboard.press('Control+i')
    await stock.keyboard.type(' and stock')
    await waitForEditorText(alice, 'from coedit and stock')
    expect(await alice.evaluate(() => g().ytext.toDelta())).toEqual([
      { insert: 'from coedit' },
      { insert: ' and stock', attributes: { italic: true } },
    ])
    await alice.waitForFunction(
      () => document.querySelector('#editor .ql-editor em')?.textContent === ' and stock',
    )
    await alice.waitForFunction(
      () => document.querySelector('.ql-cursor .ql-cursor-name')?.textContent === 'stock',
    )
  })

  it('executes nothing a hostile peer writes into the shared text', async () => {
    const room = `quill-${randomUUID()}`
    const alice = await openUser('alice', room)
    const hostile = nodeSession(room)
    await hostile.whenSynced()
    const pwn = 'window.__pwned=1'
    const ytext = hostile.getText('doc')
    hostile.doc.transact(() => {
      ytext.applyDelta([
        { insert: 'js link', attributes: { link: `javascript:${pwn}` } },
        { insert: 'data link', attributes: { link: `data:text/html,<script>${pwn}</script>` } },
        { insert: `<img src=x onerror="${pwn}"><script>${pwn}</script>` },
        { insert: 'script attr', attributes: { script: `"><img src=x onerror="${pwn}">` } },
        { insert: 'handler attr', attributes: { onerror: pwn, onclick: pwn } },
        { insert: 'style', attributes: { color: `red;background:url(javascript:${pwn})` } },
        { insert: { image: `javascript:${pwn}` } },
        { insert: { image: `x" onerror="${pwn}` } },
        { insert: { video: `javascript:${pwn}` } },
        { insert: '\n', attributes: { header: `<img src=x onerror="${pwn}">` } },
        { insert: 'code\n', attributes: { 'code-block': `"><img src=x onerror="${pwn}">` } },
        { insert: 'end' },
      ])
    })
    // A hostile name and colour for a remote cursor, too.
    hostile.awareness.setLocalStateField('user', {
      name: `<img src=x onerror="${pwn}">`,
      color: `red;background:url(javascript:${pwn})`,
    })
    hostile.awareness.setLocalStateField('cursor', {
      anchor: Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(ytext, 0)),
      head: Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(ytext, 2)),
    })

    await alice.waitForFunction(() => g().quill.getText().includes('end'))
    await alice.waitForFunction(() => document.querySelector('.ql-cursor-name') !== null)
    // Every image has loaded or failed, so any onerror handler would have run by now.
    await alice.waitForFunction(() => [...document.images].every((image) => image.complete))
    const report = await alice.evaluate(() => {
      const all = [...document.querySelectorAll('#editor *')]
      return {
        pwned: g().__pwned,
        scripts: document.querySelectorAll('#editor script').length,
        handlers: all.flatMap((el) =>
          [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => a.name),
        ),
        urls: all.flatMap((el) =>
          ['href', 'src'].map((name) => el.getAttribute(name) ?? '').filter((v) => v !== ''),
        ),
        cursorName: document.querySelector('.ql-cursor-name')?.textContent,
      }
    })
    expect(report.pwned).toBeUndefined()
    expect(report.scripts).toBe(0)
    expect(report.handlers).toEqual([])
    for (const url of report.urls) expect(url).not.toMatch(/^\s*(javascript|data:text)/i)
    expect(report.cursorName).toBe(`<img src=x onerror="${pwn}">`)

    // The binding survived: Alice's typing still reaches the hostile peer.
    await focusEnd(alice)
    await alice.keyboard.type('ok')
    await alice.waitForFunction(() => g().ytext.toString().endsWith('ok'))
    await expect.poll(() => ytext.toString().endsWith('ok')).toBe(true)
    expect(await alice.evaluate(() => g().__pwned)).toBeUndefined()
  })

  it('seeds page text once when two users bind at the same moment', async () => {
    const room = `quill-${randomUUID()}`
    const [alice, bob] = await Promise.all([
      openPage('alice', '/seeded.html'),
      openPage('bob', '/seeded.html'),
    ])
    await Promise.all([
      bindUser(alice, 'alice', room, { path: '/seeded.html' }),
      bindUser(bob, 'bob', room, { path: '/seeded.html' }),
    ])
    // Each typed mark arrives after everything its author had before, the seed included.
    await focusEnd(alice)
    await alice.keyboard.type('!')
    await waitForEditorText(bob, 'Hello world!')
    await focusEnd(bob)
    await bob.keyboard.type('?')
    await waitForEditorText(alice, 'Hello world!?')
    expect(await alice.evaluate(() => g().ytext.toDelta())).toEqual([
      { insert: 'Hello ' },
      { insert: 'world!?', attributes: { bold: true } },
    ])
    const witness = nodeSession(room)
    await witness.whenSynced()
    await expect.poll(() => witness.getText('doc').toString()).toBe('Hello world!?')
  })

  it('stops syncing and restores Quill’s keyboard and history on destroy()', async () => {
    const room = `quill-${randomUUID()}`
    const alice = await openPage('alice')
    const before = await alice.evaluate(() => {
      const quill = new (g().coeditQuill.Quill)('#editor', { modules: { toolbar: false } })
      g().quill = quill
      const bindings = quill.keyboard.bindings as Record<string, unknown[]>
      return ['z', 'Z', 'y'].map((key) => bindings[key]?.length ?? 0)
    })
    const peer = nodeSession(room)
    await alice.evaluate(
      ({ serverUrl, room }) => {
        const { coeditQuill, quill } = g()
        const session = coeditQuill.createSession({ server: serverUrl, room, webrtc: false })
        g().session = session
        g().ytext = session.getText('doc')
        g().binding = coeditQuill.bindQuill(g().ytext, quill, { awareness: session.awareness })
      },
      { serverUrl: server.url, room },
    )
    await focusEnd(alice)
    await alice.keyboard.type('bound')
    await expect.poll(() => peer.getText('doc').toString()).toBe('bound')

    const after = await alice.evaluate(() => {
      const { quill, binding } = g()
      binding?.destroy()
      binding?.destroy()
      const bindings = quill.keyboard.bindings as Record<string, unknown[]>
      return {
        keys: ['z', 'Z', 'y'].map((key) => bindings[key]?.length ?? 0),
        ownHistory: Object.keys(quill.history).filter((key) =>
          ['undo', 'redo', 'record', 'transform'].includes(key),
        ),
        ownGetModule: Object.hasOwn(quill, 'getModule'),
      }
    })
    expect(after.keys).toEqual(before)
    expect(after.ownHistory).toEqual([])
    expect(after.ownGetModule).toBe(false)

    await alice.keyboard.type(' unbound')
    peer.getText('doc').insert(0, 'remote ')
    await alice.waitForFunction(() => g().ytext.toString() === 'remote bound')
    // A later edit of Alice's session reaches the peer after anything the typing had sent.
    await alice.evaluate(() => g().ytext.insert(g().ytext.length, '>'))
    await expect.poll(() => peer.getText('doc').toString()).toBe('remote bound>')
    expect(await editorText(alice)).toBe('bound unbound\n')
  })
})

/**
 * The contenteditable binding and the Quill binding on one room (issue 4: "a contenteditable page
 * and a Quill page edit the same room and converge, formats included"). Alice edits a
 * `<div contenteditable>` bound with `bindContentEditable`, Bob a Quill 2 editor bound with
 * `bindQuill`; both are sessions on a real Coedit server (relay only) in their own browser
 * context, typing with the real keyboard.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import type Quill from 'quill'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Session } from '../../src/index.js'
import { startServer, type TestServer } from '../../../signaling-server/test/helpers/server.js'
import type { InteropGlobals } from './fixtures/interop-entry.js'
import { buildBrowserBundle } from './helpers/bundle.js'
import { attachConsole } from './helpers/chromium.js'
import { useChromium } from './helpers/use-chromium.js'
import { startStaticServer, type StaticServer } from './helpers/static-server.js'

interface PageGlobals {
  coeditInterop: InteropGlobals
  session: Session
  /** Alice's contenteditable element (not `editor`: that name is `window`'s access to `#editor`). */
  richElement?: HTMLElement
  /** Bob's Quill. */
  quill?: Quill
}

/**
 * The page's globals. Functions passed to `page.evaluate` run in the page, which defines `g` the
 * same way (an inline script), so they can call it too.
 */
const g = () => globalThis as unknown as PageGlobals

const entry = fileURLToPath(new URL('./fixtures/interop-entry.ts', import.meta.url))
const quillCss = readFileSync(
  createRequire(import.meta.url).resolve('quill/dist/quill.core.css'),
  'utf8',
)

let server: TestServer
let web: StaticServer
const chromium = useChromium()

beforeAll(async () => {
  web = await startStaticServer({
    '/index.html': `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
      <link rel="stylesheet" href="/quill.css"><script>globalThis.g = () => globalThis</script>
      <div id="editor" style="width: 600px"></div>
      <script type="module" src="/bundle.js"></script>`,
    '/quill.css': quillCss,
    '/bundle.js': await buildBrowserBundle(entry),
  })
  server = await startServer()
})
afterAll(async () => {
  await web?.close()
  await server?.close()
})

const openUser = async (name: string, room: string, editor: 'contenteditable' | 'quill') => {
  const context = await chromium.newContext()
  const page = await context.newPage()
  attachConsole(page, name)
  await page.goto(web.url)
  await page.waitForFunction(() => 'coeditInterop' in globalThis)
  await page.evaluate(
    async ({ serverUrl, room, name, editor }) => {
      const { coeditInterop } = g()
      const session = coeditInterop.createSession({
        server: serverUrl,
        room,
        user: { name, color: '#3366ff' },
        webrtc: false,
        offline: false,
        reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
      })
      g().session = session
      await session.whenSynced()
      const element = document.getElementById('editor') as HTMLElement
      const ytext = session.getText('doc')
      const options = { undoManager: session.undoManager(ytext), awareness: session.awareness }
      if (editor === 'quill') {
        const quill = new coeditInterop.Quill(element, {
          modules: { cursors: true, toolbar: false },
        })
        g().quill = quill
        coeditInterop.bindQuill(ytext, quill, options)
      } else {
        element.contentEditable = 'true'
        g().richElement = element
        coeditInterop.bindContentEditable(ytext, element, options)
      }
    },
    { serverUrl: server.url, room, name, editor },
  )
  return page
}

interface View {
  /** `ytext.toDelta()`, as JSON. */
  readonly delta: string
  /** The model text with Quill's implicit final '\n'. */
  readonly model: string
  /** The editor's text, one '\n' after each line. */
  readonly shown: string
}

/** What one page holds in its model and shows in its editor. */
const view = (page: Page): Promise<View> =>
  page.evaluate(() => {
    const { session, quill, richElement: editor } = g()
    const ytext = session.getText('doc')
    const text = ytext.toString()
    const model = text.endsWith('\n') ? text : `${text}\n`
    let shown = quill?.getText() ?? ''
    if (editor !== undefined) {
      const lines: string[] = []
      for (const child of Array.from(editor.children)) {
        if (child.tagName === 'UL' || child.tagName === 'OL') {
          for (const item of Array.from(child.children)) lines.push(item.textContent ?? '')
        } else lines.push(child.textContent ?? '')
      }
      shown = lines.map((line) => `${line}\n`).join('')
    }
    return { delta: JSON.stringify(ytext.toDelta()), model, shown }
  })

/**
 * Waits until both pages hold the same delta and each editor shows its model's text. Quill
 * shows one more empty line when the model ends with a block-formatted '\n' (its own final line).
 */
const converge = async (a: Page, b: Page, step: string) => {
  // Fails with both pages' state rather than the test's timeout, so a divergence is readable.
  const deadline = Date.now() + 20_000
  for (;;) {
    const [va, vb] = await Promise.all([view(a), view(b)])
    const shows = (v: View) => v.shown === v.model || v.shown === `${v.model}\n`
    if (va.delta === vb.delta && shows(va) && shows(vb)) {
      return JSON.parse(va.delta) as { insert: string; attributes?: Record<string, unknown> }[]
    }
    if (Date.now() > deadline) {
      throw new Error(`no convergence after ${step}: ${JSON.stringify({ va, vb }, null, 1)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const quillFocusEnd = (page: Page) =>
  page.evaluate(() => {
    const quill = g().quill as Quill
    quill.focus()
    quill.setSelection(quill.getLength() - 1, 0, 'user')
  })

const shiftLeft = async (page: Page, count: number) => {
  for (let i = 0; i < count; i++) await page.keyboard.press('Shift+ArrowLeft')
}

/** Tag names and texts of the formatted elements in an editor: what a reader sees. */
const formatted = (page: Page) =>
  page.evaluate(() =>
    Array.from(
      document.querySelectorAll('#editor strong, #editor h1, #editor li, #editor em'),
      (e) => [e.tagName.toLowerCase(), e.textContent ?? ''].join(':'),
    ),
  )

describe('contenteditable and Quill on one room', () => {
  it('converge with bold, a heading and a list made on either side', async () => {
    const room = `interop-${randomUUID()}`
    const alice = await openUser('alice', room, 'contenteditable')
    const bob = await openUser('bob', room, 'quill')

    // Alice writes the first line, Bob the second, Alice the third (Enter at the very end).
    await alice.click('#editor')
    await alice.keyboard.press('Control+End')
    await alice.keyboard.type('Notes from alice')
    await converge(alice, bob, 'alice typed')
    await quillFocusEnd(bob)
    await bob.keyboard.press('Enter')
    await bob.keyboard.type('bob was here')
    await converge(alice, bob, 'bob typed')
    await alice.keyboard.press('Control+End')
    await alice.keyboard.press('Enter')
    await alice.keyboard.type('third')
    await converge(alice, bob, 'alice typed a third line')

    // Bold by shortcut on each side: Alice bolds "alice", Bob bolds "here".
    await alice.keyboard.press('Control+Home')
    await alice.keyboard.press('End')
    await shiftLeft(alice, 'alice'.length)
    await alice.keyboard.press('Control+b')
    await shiftLeft(bob, 'here'.length)
    await bob.keyboard.press('Control+b')
    await converge(alice, bob, 'bold on both sides')

    // Block formats: Bob makes the first line a heading (Quill has no shortcut for it), Alice
    // makes Bob's line a bullet through the model (the binding has no UI for lists).
    await bob.evaluate(() => g().quill?.formatLine(0, 1, 'header', 1, 'user'))
    await alice.evaluate(() => {
      const ytext = g().session.getText('doc')
      const end = ytext.toString().indexOf('bob was here') + 'bob was here'.length
      ytext.format(end, 1, { list: 'bullet' })
    })
    await converge(alice, bob, 'heading and list')
    // Both keep typing afterwards, at once, in different lines.
    await bob.evaluate(() => g().quill?.setSelection('Notes'.length, 0, 'user'))
    await alice.keyboard.press('Control+End')
    await Promise.all([alice.keyboard.type(' line'), bob.keyboard.type(' and')])

    const delta = await converge(alice, bob, 'concurrent typing')
    expect(delta).toEqual([
      { insert: 'Notes and from ' },
      { insert: 'alice', attributes: { bold: true } },
      { insert: '\n', attributes: { header: 1 } },
      { insert: 'bob was ' },
      { insert: 'here', attributes: { bold: true } },
      { insert: '\n', attributes: { list: 'bullet' } },
      { insert: 'third line\n' },
    ])
    const expected = ['h1:Notes and from alice', 'strong:alice', 'li:bob was here', 'strong:here']
    expect(await formatted(alice)).toEqual(expected)
    expect(await formatted(bob)).toEqual(expected)
  })
})

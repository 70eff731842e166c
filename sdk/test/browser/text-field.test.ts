/**
 * bindTextField in real Chromium: two users in two browser contexts, each with a session on a
 * real Coedit server (relay only, for speed), typing with the real keyboard (no `fill`).
 */
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TextFieldBinding } from '../../src/bindings/text-field.js'
import type { Session } from '../../src/index.js'
import { startServer, type TestServer } from '../../../signaling-server/test/helpers/server.js'
import type { TextFieldGlobals } from './fixtures/text-field-entry.js'
import { buildBrowserBundle } from './helpers/bundle.js'
import { attachConsole } from './helpers/chromium.js'
import { useChromium } from './helpers/use-chromium.js'
import { startStaticServer, type StaticServer } from './helpers/static-server.js'

interface PageGlobals {
  coedit: TextFieldGlobals
  session: Session
  notes: TextFieldBinding
  title: TextFieldBinding
  /** The fake framework's state of the controlled `#title` input. */
  titleState: string
}

const entry = fileURLToPath(new URL('./fixtures/text-field-entry.ts', import.meta.url))

// A monospace textarea (so caret positions are predictable) and a "controlled" input that, like
// React, tracks the value it last set on the instance and writes its state back after each input.
const PAGE = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<style>textarea, input { font: 16px/20px monospace; padding: 4px; border: 1px solid #999; }</style>
<textarea id="notes" cols="40" rows="6"></textarea>
<input id="title">
<script type="module" src="/coedit.js"></script>`

let server: TestServer
let web: StaticServer
const chromium = useChromium()

beforeAll(async () => {
  const bundle = await buildBrowserBundle(entry)
  web = await startStaticServer({ '/index.html': PAGE, '/coedit.js': bundle })
  server = await startServer()
})
afterAll(async () => {
  await web?.close()
  await server?.close()
})

const openUser = async (name: string, color: string, room: string): Promise<Page> => {
  const context = await chromium.newContext()
  const page = await context.newPage()
  attachConsole(page, name)
  await page.goto(web.url)
  await page.waitForFunction(() => 'coedit' in globalThis)
  await page.evaluate(
    ({ serverUrl, room, name, color }) => {
      const g = globalThis as unknown as PageGlobals
      const { createSession, bindTextField } = g.coedit
      g.session = createSession({
        server: serverUrl,
        room,
        user: { name, color },
        webrtc: false,
        offline: false,
        reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
      })
      const notes = g.session.getText('notes')
      g.notes = bindTextField(notes, document.querySelector('textarea') as HTMLTextAreaElement, {
        awareness: g.session.awareness,
        undoManager: g.session.undoManager(notes),
      })
      // The fake framework: React's value tracker and its re-render.
      const input = document.querySelector('input') as HTMLInputElement
      const native = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')
      let tracked = ''
      g.titleState = ''
      Object.defineProperty(input, 'value', {
        configurable: true,
        get: () => native?.get?.call(input) as string,
        set: (value: string) => {
          tracked = value
          native?.set?.call(input, value)
        },
      })
      input.addEventListener('input', () => {
        if (input.value !== tracked) g.titleState = tracked = input.value
        queueMicrotask(() => {
          if (input.value !== g.titleState) input.value = g.titleState
        })
      })
      g.title = bindTextField(g.session.getText('title'), input)
    },
    { serverUrl: server.url, room, name, color },
  )
  await page.evaluate(() => (globalThis as unknown as PageGlobals).session.whenSynced())
  return page
}

const openPair = async (label: string) => {
  const room = `${label}-${randomUUID()}`
  const alice = await openUser('alice', '#cc3333', room)
  const bob = await openUser('bob', '#3366ff', room)
  return { alice, bob }
}

const value = (page: Page, selector = 'textarea') =>
  page.$eval(selector, (element) => (element as HTMLTextAreaElement).value)

/** Waits until the page's textarea shows `expected` and its shared text holds it. */
const waitForNotes = (page: Page, expected: string) =>
  page.waitForFunction(
    (expected) =>
      (document.querySelector('textarea') as HTMLTextAreaElement).value === expected &&
      (globalThis as unknown as PageGlobals).session.getText('notes').toString() === expected,
    expected,
  )

const caretAt = async (page: Page, index: number) => {
  await page.focus('textarea')
  await page.$eval(
    'textarea',
    (element, index) => (element as HTMLTextAreaElement).setSelectionRange(index, index),
    index,
  )
}

describe('bindTextField in Chromium', () => {
  it('converges when two users type at once', async () => {
    const { alice, bob } = await openPair('concurrent')
    await alice.focus('textarea')
    await alice.keyboard.type('A:')
    await alice.keyboard.press('Enter')
    await alice.keyboard.type('B:')
    await waitForNotes(bob, 'A:\nB:')
    await caretAt(alice, 2)
    await caretAt(bob, 5)
    await Promise.all([
      alice.keyboard.type(' typed by alice', { delay: 15 }),
      bob.keyboard.type(' typed by bob', { delay: 15 }),
    ])
    const expected = 'A: typed by alice\nB: typed by bob'
    await waitForNotes(alice, expected)
    await waitForNotes(bob, expected)
  })

  it('keeps the caret in place while the other user types before it', async () => {
    const { alice, bob } = await openPair('caret')
    await alice.focus('textarea')
    await alice.keyboard.type('0123456789')
    await waitForNotes(bob, '0123456789')
    await caretAt(bob, 5)
    await caretAt(alice, 0)
    await alice.keyboard.type('abc')
    await waitForNotes(bob, 'abc0123456789')
    const selection = await bob.$eval('textarea', (element) => {
      const { selectionStart, selectionEnd } = element as HTMLTextAreaElement
      return [selectionStart, selectionEnd]
    })
    expect(selection).toEqual([8, 8])
    await bob.keyboard.type('X')
    await waitForNotes(alice, 'abc01234X56789')
  })

  it('undoes only the local user’s edits, on both pages', async () => {
    const { alice, bob } = await openPair('undo')
    await alice.focus('textarea')
    await alice.keyboard.type('alice ')
    await waitForNotes(bob, 'alice ')
    await caretAt(bob, 6)
    await bob.keyboard.type('bob')
    await waitForNotes(alice, 'alice bob')
    await alice.keyboard.press('Control+z')
    await waitForNotes(alice, 'bob')
    await waitForNotes(bob, 'bob')
    await alice.keyboard.press('Control+Shift+z')
    await waitForNotes(bob, 'alice bob')
    await bob.keyboard.press('Control+z')
    await waitForNotes(alice, 'alice ')
  })

  it('draws the other user’s cursor and selection over the textarea', async () => {
    const { alice, bob } = await openPair('cursors')
    await alice.focus('textarea')
    await alice.keyboard.type('first line')
    await alice.keyboard.press('Enter')
    await alice.keyboard.type('second')
    await alice.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    await waitForNotes(bob, 'first line\nsecond')
    // What Alice's overlay draws for Bob (the binding hands the overlay exactly these boxes).
    const drawnForBob = () =>
      alice.evaluate(() => {
        const drawn = (globalThis as unknown as PageGlobals).notes.remoteCursors()
        const [cursor] = drawn
        if (drawn.length !== 1 || cursor?.name !== 'bob' || cursor.caret === null) return null
        const { left, top, height } = cursor.caret
        return { left, top, height, selection: cursor.selection.map((rect) => rect.width) }
      })
    const box = await alice.$eval('textarea', (element) => element.getBoundingClientRect().toJSON())

    await caretAt(bob, 0)
    await expect.poll(drawnForBob).not.toBeNull()
    const start = await drawnForBob()
    if (start === null) throw new Error('the cursor vanished')
    expect(start.left).toBeGreaterThan(box.left)
    expect(start.left).toBeLessThan(box.left + 10) // border + padding
    expect(start.top).toBeGreaterThan(box.top)
    expect(start.height).toBeGreaterThan(10)
    expect(start.selection).toEqual([])

    // Five monospace characters (~9.6px each at 16px) to the right, same line.
    await caretAt(bob, 5)
    await expect
      .poll(drawnForBob)
      .toSatisfy((c) => c !== null && c.left > start.left + 40 && c.top === start.top)
    // The start of the second line: back at the left edge, one 20px line lower.
    await caretAt(bob, 11)
    await expect
      .poll(drawnForBob)
      .toSatisfy(
        (c) =>
          c !== null && Math.abs(c.left - start.left) < 1 && Math.abs(c.top - start.top - 20) < 1,
      )
    // A selection of "first" is one highlighted box five characters wide.
    await bob.$eval('textarea', (element) =>
      (element as HTMLTextAreaElement).setSelectionRange(0, 5),
    )
    await expect
      .poll(drawnForBob)
      .toSatisfy((c) => c !== null && c.selection.length === 1 && (c.selection[0] ?? 0) > 40)
    expect(await alice.evaluate(() => document.querySelectorAll('coedit-cursors').length)).toBe(1)

    // Bob leaves the field: his cursor goes.
    await bob.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    await alice.waitForFunction(
      () => (globalThis as unknown as PageGlobals).notes.remoteCursors().length === 0,
    )
  })

  it('keeps a framework-controlled input in sync', async () => {
    const { alice, bob } = await openPair('controlled')
    await alice.focus('input')
    await alice.keyboard.type('Shared title')
    await bob.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).titleState === 'Shared title' &&
        (document.querySelector('input') as HTMLInputElement).value === 'Shared title',
    )
    await bob.focus('input')
    await bob.keyboard.press('End')
    await bob.keyboard.type('!')
    await alice.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).titleState === 'Shared title!' &&
        (globalThis as unknown as PageGlobals).session.getText('title').toString() ===
          'Shared title!',
    )
    expect(await value(bob, 'input')).toBe('Shared title!')
    expect(await value(alice, 'input')).toBe('Shared title!')
  })

  it('does not break IME composition when the other user types meanwhile', async () => {
    const { alice, bob } = await openPair('ime')
    await alice.focus('textarea')
    await alice.keyboard.type('ab')
    await waitForNotes(bob, 'ab')
    await caretAt(bob, 2)
    const cdp = await bob.context().newCDPSession(bob)
    await cdp.send('Input.imeSetComposition', { text: 'に', selectionStart: 1, selectionEnd: 1 })
    expect(await value(bob, 'textarea')).toBe('abに')
    await caretAt(alice, 0)
    await alice.keyboard.type('XY')
    await bob.waitForFunction(
      () => (globalThis as unknown as PageGlobals).session.getText('notes').toString() === 'XYab',
    )
    // Still composing, untouched: the remote edit waits.
    expect(await value(bob, 'textarea')).toBe('abに')
    await cdp.send('Input.imeSetComposition', { text: 'にほ', selectionStart: 2, selectionEnd: 2 })
    await cdp.send('Input.insertText', { text: '日本' })
    await waitForNotes(bob, 'XYab日本')
    await waitForNotes(alice, 'XYab日本')
    const caret = await bob.$eval('textarea', (el) => (el as HTMLTextAreaElement).selectionStart)
    expect(caret).toBe(6)
  })
})

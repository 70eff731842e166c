/**
 * A plain static site that is not part of the demo, on another origin than the Coedit server,
 * gains collaboration from the script tag alone: the page below is written here, served by its
 * own web server, and loads the immutable hashed bundle cross-origin with Subresource Integrity
 * (which only loads when the server sends CORS headers). It has a textarea and its own Quill
 * editor — Coedit binds to the page's Quill instance; Quill is not in the bundle.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../../../signaling-server/test/helpers/server.js'
import { attachConsole } from './helpers/chromium.js'
import { useChromium } from './helpers/use-chromium.js'
import {
  badgeNames,
  fieldText,
  startSiteServer,
  typeAtEnd,
  waitForBadge,
  waitForFieldText,
  waitForStarted,
  type WithCoedit,
} from './helpers/coedit-site.js'
import { startStaticServer, type StaticServer } from './helpers/static-server.js'

const require = createRequire(import.meta.url)

let coedit: TestServer
let site: StaticServer
const chromium = useChromium()
const room = `plain-site-${randomUUID()}`

/** The site's own page: its markup, its Quill, and one script tag from the Coedit server. */
const sitePage = (user: string, script: { src: string; integrity: string }) => `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Plain site</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/quill.snow.css">
<h1>Meeting notes</h1>
<textarea id="notes" data-coedit="notes" rows="6" cols="60"></textarea>
<div id="editor" data-coedit="minutes" style="height: 200px"></div>
<script src="/quill.js"></script>
<script>new Quill('#editor', { theme: 'snow' })</script>
<script src="${script.src}" integrity="${script.integrity}" crossorigin="anonymous"
  data-room="${room}" data-user-name="${user}" data-user-color="#2a9d8f"></script>
</html>`

beforeAll(async () => {
  coedit = await startSiteServer({ publicDir: undefined })
  const manifest = (await (await fetch(`${coedit.url}/coedit.json`)).json()) as {
    script: string
    integrity: string
  }
  const script = { src: `${coedit.url}${manifest.script}`, integrity: manifest.integrity }
  site = await startStaticServer({
    '/ana.html': sitePage('Ana', script),
    '/ben.html': sitePage('Ben', script),
    '/quill.js': readFileSync(require.resolve('quill/dist/quill.js')),
    '/quill.snow.css': readFileSync(require.resolve('quill/dist/quill.snow.css')),
  })
  // Another port is another origin: the page and the Coedit server do not share one.
  expect(new URL(site.url).origin).not.toBe(new URL(coedit.url).origin)
})
afterAll(async () => {
  await site?.close()
  await coedit?.close()
})

const open = async (user: string): Promise<Page> => {
  const context = await chromium.newContext()
  const page = await context.newPage()
  attachConsole(page, user)
  await page.goto(`${site.url}/${user.toLowerCase()}.html`)
  await waitForStarted(page)
  return page
}

describe('a static page on another origin with only the script tag', () => {
  it('edits a textarea and its own Quill editor together, with presence', async () => {
    const ana = await open('Ana')
    const ben = await open('Ben')
    await waitForBadge(ana, { peers: '1' })
    expect(await badgeNames(ana)).toEqual(['Ben'])
    expect(await badgeNames(ben)).toEqual(['Ana'])

    await typeAtEnd(ana, '#notes', 'Agenda: launch.')
    await waitForFieldText(ben, '#notes', ['Agenda: launch.'])
    await typeAtEnd(ben, '#editor .ql-editor', 'Decided: ship on Monday.')
    await waitForFieldText(ana, '#editor .ql-editor', ['Decided: ship on Monday.'])
    // Bold by keyboard shortcut in Ben's Quill reaches Ana's Quill as bold.
    await ben.keyboard.press('Control+b')
    await ben.keyboard.type(' Really.')
    await ana.waitForFunction(
      () => document.querySelector('#editor .ql-editor strong')?.textContent === ' Really.',
    )
    // The binding drives the page's own Quill instance (the one `new Quill` made).
    const anaQuillText = await ana.evaluate(() => {
      const quill = (
        globalThis as unknown as { Quill: { find(node: Element): { getText(): string } } }
      ).Quill.find(document.querySelector('#editor') as Element)
      return quill.getText()
    })
    expect(anaQuillText).toBe('Decided: ship on Monday. Really.\n')
    expect(await fieldText(ana, '#notes')).toBe(await fieldText(ben, '#notes'))
    expect(
      await ana.evaluate(() => (globalThis as WithCoedit).Coedit?.instance?.session.room),
    ).toBe(room)
  })
})

/**
 * The extension end to end, in two Chromium profiles with the built extension loaded (two
 * people's browsers): on a page with a contenteditable, a textarea and a Quill editor (and a
 * password field), Ana shares fields from the popup, Ben joins from the invite link, and both
 * type with the real keyboard. A hostile page script tries to read the room key on both sides.
 * Then a page that uses only the script tag co-edits one field with an extension user.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import WebSocket from 'ws'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSession, type WebSocketConstructor } from '../../../sdk/src/index.js'
import { attachConsole, launchChromium } from '../../../sdk/test/browser/helpers/chromium.js'
import { typeAtEnd, waitForFieldText } from '../../../sdk/test/browser/helpers/coedit-site.js'
import {
  startStaticServer,
  type StaticServer,
} from '../../../sdk/test/browser/helpers/static-server.js'
import { startServer, type TestServer } from '../../../signaling-server/test/helpers/server.js'
import { parseInviteLink } from '../../src/shared/messages.js'
import {
  launchProfile,
  prepareExtension,
  type ExtensionProfile,
  type PreparedExtension,
} from './helpers/extension-browser.js'

const require = createRequire(import.meta.url)
const snoop = readFileSync(new URL('./fixtures/snoop.js', import.meta.url), 'utf8')

const TRIP_PAGE = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Trip report</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="/quill.snow.css">
<style>body { font: 16px/1.4 sans-serif; margin: 24px; } textarea, [contenteditable] { width: 480px; }</style>
<script src="/snoop.js"></script>
<h1>Trip report</h1>
<p><label for="summary">Summary</label><br><textarea id="summary" rows="4"></textarea></p>
<div id="story" contenteditable="true" aria-label="Story" style="border: 1px solid #999; min-height: 60px"><p>Day one.</p></div>
<p><label>Password <input type="password" id="pw" name="password"></label></p>
<div id="editor" style="height: 120px"></div>
<script src="/quill.js"></script>
<script>new Quill('#editor', { theme: 'snow' })</script>
</html>`

let server: TestServer
let site: StaticServer
let extension: PreparedExtension
const profiles: ExtensionProfile[] = []

beforeAll(async () => {
  server = await startServer()
  site = await startStaticServer({
    '/trip.html': TRIP_PAGE,
    '/start.html': '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><p>Start',
    '/snoop.js': snoop,
    '/quill.js': readFileSync(require.resolve('quill/dist/quill.js')),
    '/quill.snow.css': readFileSync(require.resolve('quill/dist/quill.snow.css')),
  })
  extension = prepareExtension()
})
afterAll(async () => {
  await Promise.all(profiles.splice(0).map((profile) => profile.close()))
  extension?.remove()
  await site?.close()
  await server?.close()
})

const newProfile = async (): Promise<ExtensionProfile> => {
  const profile = await launchProfile(extension.dir)
  profiles.push(profile)
  // The server the extension connects to: the options page's setting, stored where it keeps it.
  await profile.worker.evaluate((server) => chrome.storage.local.set({ server }), server.url)
  return profile
}

/** Opens the popup for `page`'s tab and sets the display name. */
const openPopup = async (profile: ExtensionProfile, page: Page, name: string) => {
  const popup = await profile.popup(page, `${name} popup`)
  await popup.waitForSelector('html[data-ready="true"]')
  await popup.fill('#name', name)
  await popup.press('#name', 'Tab')
  return popup
}

/** Waits until the page's presence panel lists exactly `names` as the others here. */
const waitForPanel = (page: Page, names: readonly string[]) =>
  page.waitForFunction((names) => {
    const panel = document.querySelector<HTMLElement>('[data-coedit-extension-panel]')
    return panel?.dataset['state'] === 'live' && panel.dataset['names'] === JSON.stringify(names)
  }, names)

/** Starts the picker from the popup (or expects it open) and picks `selector`'s field. */
const pick = async (page: Page, selector: string) => {
  await page.waitForSelector('[data-coedit-picker]')
  // Where the user clicks: on the field, which the picker's outline covers (Playwright would
  // otherwise refuse because the outline, not the field, receives the click).
  await page.click(selector, { force: true })
  await page.waitForSelector('[data-coedit-picker]', { state: 'detached' })
}

describe('the extension in two Chromium profiles', () => {
  it('shares fields from the popup, joins from the invite link, edits together by keyboard', async () => {
    const ana = await newProfile()
    const anaPage = await ana.open(`${site.url}/trip.html`, 'Ana page')
    const anaPopup = await openPopup(ana, anaPage, 'Ana')
    await anaPopup.click('#share')

    // The picker outlines the three editable fields and never the password field.
    await anaPage.waitForSelector('[data-coedit-picker]')
    expect(await anaPage.locator('[data-coedit-picker] .field').count()).toBe(3)
    // Clicking the password field picks nothing: the picker stays open.
    await anaPage.click('#pw', { force: true })
    expect(await anaPage.locator('[data-coedit-picker]').count()).toBe(1)
    await pick(anaPage, '#summary')
    await anaPopup.click('#pick')
    await pick(anaPage, '#story')
    await anaPopup.click('#pick')
    await pick(anaPage, '#editor .ql-editor')

    const link = await anaPopup.inputValue('#invite-link')
    const parsed = parseInviteLink(link)
    expect(parsed?.page).toBe(`${site.url}/trip.html`)

    const ben = await newProfile()
    // Ben starts on any tab; joining navigates it to the shared page.
    const benStart = await ben.open(`${site.url}/start.html`, 'Ben page')
    const benPopup = await openPopup(ben, benStart, 'Ben')
    await benPopup.fill('#join-input', link)
    await benPopup.click('#join')
    await benStart.waitForURL(`${site.url}/trip.html`)
    const benPage = benStart

    await waitForPanel(anaPage, ['Ben'])
    await waitForPanel(benPage, ['Ana'])
    // Ben's page shows what Ana's had: the shared fields took the sharer's text.
    await waitForFieldText(benPage, '#story', ['Day one.'])

    await typeAtEnd(anaPage, '#summary', 'Great trip.')
    await waitForFieldText(benPage, '#summary', ['Great trip.'])
    await typeAtEnd(benPage, '#story', ' Rain all day.')
    await waitForFieldText(anaPage, '#story', ['Day one.', 'Rain all day.'])
    await typeAtEnd(anaPage, '#editor .ql-editor', 'Packing list')
    await waitForFieldText(benPage, '#editor .ql-editor', ['Packing list'])
    await typeAtEnd(benPage, '#editor .ql-editor', ': boots')
    await waitForFieldText(anaPage, '#editor .ql-editor', ['Packing list: boots'])

    // The password field was never shared: what Ana types there stays on her page.
    await anaPage.fill('#pw', 'hunter2')
    await typeAtEnd(anaPage, '#summary', ' Again!')
    await waitForFieldText(benPage, '#summary', ['Great trip. Again!'])
    expect(await benPage.inputValue('#pw')).toBe('')

    // Both popups show who is here and the path; Ben's edits are saved on the server.
    await anaPopup.waitForSelector('#peers li[data-name="Ben"]')
    expect(await anaPopup.getAttribute('#peers li[data-name="Ben"]', 'data-transport')).toMatch(
      /^(webrtc|relay)$/,
    )
    await benPopup.waitForSelector('#saved[data-saved="true"]')

    // The hostile page script on either page saw neither the key nor the invite code.
    const key = parsed?.invite.key ?? ''
    const code = link.slice(link.indexOf('=') + 1)
    expect(key.length).toBeGreaterThanOrEqual(32)
    for (const page of [anaPage, benPage]) {
      const seen = await page.evaluate(() => {
        const g = globalThis as unknown as { __sweep(label: string): void; __seen: string[] }
        g.__sweep('end')
        return g.__seen.join('\n')
      })
      expect(seen.length).toBeGreaterThan(0)
      expect(seen).not.toContain(key)
      expect(seen).not.toContain(code)
    }
  })

  it('an extension user and a script-tag page co-edit one field', async () => {
    const ana = profiles[0] ?? (await newProfile())
    const anaPage = await ana.open(`${site.url}/trip.html?again`, 'Ana page 2')
    const anaPopup = await openPopup(ana, anaPage, 'Ana')
    await anaPopup.click('#share')
    await pick(anaPage, '#summary')
    const parsed = parseInviteLink(await anaPopup.inputValue('#invite-link'))
    const room = parsed?.invite.room ?? ''

    // The field's id, as every member of the room sees it in the document's field list.
    const observer = createSession({
      server: server.url,
      room,
      webrtc: false,
      offline: false,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    })
    let fieldId: string
    try {
      await observer.whenSynced()
      const fields = observer.doc.getMap('coedit:fields')
      await new Promise<void>((resolve) => {
        if (fields.size > 0) resolve()
        else fields.observe(() => resolve())
      })
      fieldId = [...fields.keys()][0] ?? ''
    } finally {
      await observer.destroy()
    }

    // A page with only the script tag, on the same room and text (relay only: it does not
    // hold the room key that encrypts the extension's WebRTC signaling).
    const scriptPage = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
      <textarea id="notes" data-coedit="field:${fieldId}" rows="4" cols="50"></textarea>
      <script src="${server.url}/coedit.js" data-server="${server.url}" data-room="${room}"
        data-webrtc="off" data-user-name="Sam"></script>`
    const pageSite = await startStaticServer({ '/index.html': scriptPage })
    const browser = await launchChromium()
    try {
      const sam = await browser.newPage()
      attachConsole(sam, 'Sam')
      await sam.goto(pageSite.url)
      await waitForFieldText(sam, '#notes', [await anaPage.inputValue('#summary')])
      await typeAtEnd(anaPage, '#summary', 'From the extension.')
      await waitForFieldText(sam, '#notes', ['From the extension.'])
      await typeAtEnd(sam, '#notes', ' From the script tag.')
      await waitForFieldText(anaPage, '#summary', ['From the extension. From the script tag.'])
      await waitForPanel(anaPage, ['Sam'])
    } finally {
      await browser.close()
      await pageSite.close()
    }
  })

  it('detaches cleanly when the extension is reloaded and asks for a page reload', async () => {
    const profile = await newProfile()
    const page = await profile.open(`${site.url}/trip.html?reload`, 'reload page')
    const popup = await openPopup(profile, page, 'Rae')
    await popup.click('#share')
    await pick(page, '#summary')
    await typeAtEnd(page, '#summary', 'typed before the reload')
    await page.waitForFunction(
      () =>
        document.querySelector<HTMLElement>('[data-coedit-extension-panel]')?.dataset['saved'] ===
        'true',
    )
    // What an update does to a running extension: its contexts are torn down under the page.
    await profile.worker.evaluate(() => chrome.runtime.reload()).catch(() => undefined)
    await page.waitForFunction(() => {
      const panel = document.querySelector<HTMLElement>('[data-coedit-extension-panel]')
      return (
        panel?.dataset['state'] === 'stopped' &&
        /reload this page/.test(panel.shadowRoot?.textContent ?? '')
      )
    })
    // The page keeps what was typed and stays usable; nothing is bound any more.
    expect(await page.inputValue('#summary')).toBe('typed before the reload')
    await typeAtEnd(page, '#summary', '!')
    expect(await page.inputValue('#summary')).toBe('typed before the reload!')
  })
})

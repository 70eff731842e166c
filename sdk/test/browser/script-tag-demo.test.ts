/**
 * The demo's "existing site" page — collaboration from the script tag alone — in real Chromium:
 * two users in separate browser contexts (no shared BroadcastChannel or storage) type with the
 * real keyboard into its contenteditable, textarea and input, see each other in the presence
 * badge, and find their text again after a reload. The same flow runs three ways: WebRTC and the
 * relay together, relay only (WebRTC disabled on the script tag), and WebRTC only while the
 * server is down, catching up when it returns. The page and `/coedit.js` come from the Coedit
 * server, as with `npm start`.
 */
import { randomUUID } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../../../signaling-server/test/helpers/server.js'
import { attachConsole } from './helpers/chromium.js'
import { useChromium } from './helpers/use-chromium.js'
import {
  badgeNames,
  DEMO_DIR,
  fieldText,
  ownName,
  startSiteServer,
  typeAtEnd,
  waitForBadge,
  waitForFieldText,
  waitForStarted,
  type WithCoedit,
} from './helpers/coedit-site.js'

const TITLE = '#post-title'
const BODY = '#post-body'
const SUMMARY = '#post-summary'

let server: TestServer
let publicDir: string
const chromium = useChromium()
const pageErrors: string[] = []

/** The demo's page with one attribute added to its script tag, as a site would set it. */
const RELAY_ONLY_PAGE = 'existing-site-relay-only.html'

beforeAll(async () => {
  // The built demo, plus a relay-only variant of the existing-site page next to it.
  publicDir = mkdtempSync(join(tmpdir(), 'coedit-demo-'))
  cpSync(DEMO_DIR, publicDir, { recursive: true })
  const html = readFileSync(join(publicDir, 'existing-site.html'), 'utf8')
  const relayOnly = html.replace(
    /<script([^>]*\bsrc="\/coedit\.js")/,
    '<script data-webrtc="off"$1',
  )
  expect(relayOnly).not.toBe(html)
  writeFileSync(join(publicDir, RELAY_ONLY_PAGE), relayOnly)
  server = await startSiteServer({ publicDir })
})
afterEach(async () => {
  // Anything the page threw or logged as an error fails the test that caused it.
  expect(pageErrors.splice(0)).toEqual([])
})
afterAll(async () => {
  await server?.close()
  rmSync(publicDir, { recursive: true, force: true })
})

interface OpenOptions {
  /** Opens the variant of the page whose script tag says `data-webrtc="off"`. */
  readonly webrtcOff?: boolean
}

const newPage = async (label: string): Promise<Page> => {
  const context = await chromium.newContext()
  const page = await context.newPage()
  attachConsole(page, label)
  page.on('pageerror', (error) => pageErrors.push(`[${label}] ${error.message}`))
  return page
}

const openExistingSite = async (label: string, room: string, options: OpenOptions = {}) => {
  const page = await newPage(label)
  const file = options.webrtcOff === true ? RELAY_ONLY_PAGE : 'existing-site.html'
  await page.goto(`${server.url}/${file}?room=${encodeURIComponent(room)}`)
  await waitForStarted(page)
  return page
}

/** Both pages list each other, by name, in their badges, reached by `path`. */
const expectPresence = async (a: Page, b: Page, path: 'webrtc' | 'relay') => {
  await waitForBadge(a, { peers: '1', path })
  await waitForBadge(b, { peers: '1', path })
  expect(await badgeNames(a)).toEqual([await ownName(b)])
  expect(await badgeNames(b)).toEqual([await ownName(a)])
}

/** Keyboard edits in all three fields, some concurrent, reach the other page. */
const editTogether = async (a: Page, b: Page, tag: string) => {
  await typeAtEnd(a, BODY, ` Alice ${tag}.`)
  await waitForFieldText(b, BODY, [`Alice ${tag}.`])
  // Different fields at the same time.
  await Promise.all([typeAtEnd(a, TITLE, ` A-${tag}`), typeAtEnd(b, SUMMARY, ` Bob ${tag}.`)])
  await waitForFieldText(b, TITLE, [`A-${tag}`])
  await waitForFieldText(a, SUMMARY, [`Bob ${tag}.`])
  await typeAtEnd(b, BODY, ` Bob ${tag}.`)
  await waitForFieldText(a, BODY, [`Alice ${tag}.`, `Bob ${tag}.`])
  for (const field of [TITLE, BODY, SUMMARY]) {
    expect(await fieldText(a, field)).toBe(await fieldText(b, field))
  }
}

/** After a reload (and in a newcomer's fresh browser) every field shows what it showed before. */
const expectSurvivesReload = async (page: Page, room: string) => {
  const before = await Promise.all([TITLE, BODY, SUMMARY].map((field) => fieldText(page, field)))
  await page.reload()
  await waitForStarted(page)
  for (const [index, field] of [TITLE, BODY, SUMMARY].entries()) {
    await waitForFieldText(page, field, [before[index] ?? ''])
  }
  const newcomer = await openExistingSite('newcomer', room)
  for (const [index, field] of [TITLE, BODY, SUMMARY].entries()) {
    await waitForFieldText(newcomer, field, [before[index] ?? ''])
  }
}

describe('the script-tag-only demo page in Chromium', () => {
  it('two users edit together over WebRTC and the relay; text survives a reload', async () => {
    const room = `site-${randomUUID()}`
    const alice = await openExistingSite('alice', room)
    const bob = await openExistingSite('bob', room)
    await expectPresence(alice, bob, 'webrtc')
    await editTogether(alice, bob, 'one')
    await waitForBadge(alice, { saved: 'true' })
    await waitForBadge(bob, { saved: 'true' })
    await expectSurvivesReload(bob, room)
  })

  it('works relay only, with WebRTC disabled on the script tag', async () => {
    const room = `site-relay-${randomUUID()}`
    const alice = await openExistingSite('alice', room, { webrtcOff: true })
    const bob = await openExistingSite('bob', room, { webrtcOff: true })
    await expectPresence(alice, bob, 'relay')
    await editTogether(alice, bob, 'relayed')
    const status = await alice.evaluate(
      () => (globalThis as WithCoedit).Coedit?.instance?.session.status,
    )
    expect(status).toEqual({ relay: 'connected', webrtc: 'disabled' })
    await waitForBadge(bob, { saved: 'true' })
    await expectSurvivesReload(bob, room)
  })

  it('keeps editing peer to peer with the relay down and catches up when it returns', async () => {
    const room = `site-outage-${randomUUID()}`
    const alice = await openExistingSite('alice', room)
    const bob = await openExistingSite('bob', room)
    await expectPresence(alice, bob, 'webrtc')
    await editTogether(alice, bob, 'before')
    await waitForBadge(alice, { saved: 'true' })

    const { port } = new URL(server.url)
    await server.close({ keepData: true })
    await alice.waitForFunction(
      () => (globalThis as WithCoedit).Coedit?.instance?.session.status.relay !== 'connected',
    )
    await editTogether(alice, bob, 'during')
    // Nothing typed during the outage is on the server yet, and the badge says so.
    await waitForBadge(alice, { saved: 'false', path: 'webrtc' })
    await waitForBadge(bob, { saved: 'false', path: 'webrtc' })

    server = await startSiteServer({ port: Number(port), dataDir: server.dataDir, publicDir })
    await waitForBadge(alice, { saved: 'true' })
    await waitForBadge(bob, { saved: 'true' })
    // The newcomer in expectSurvivesReload has no offline copy and no peer history: what it
    // shows came from the server (or from the peers, which hold the same).
    await expectSurvivesReload(alice, room)
  })
})

describe('the demo pages', () => {
  for (const path of ['/', '/document.html', '/quill.html', '/form.html', '/existing-site.html']) {
    it(`${path} loads without errors and joins a room`, async () => {
      const page = await newPage(path)
      const failed: string[] = []
      page.on('requestfailed', (request) => failed.push(request.url()))
      page.on('response', (response) => {
        if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`)
      })
      await page.goto(`${server.url}${path}`)
      if (path !== '/') await waitForStarted(page)
      if (['/document.html', '/quill.html', '/form.html'].includes(path)) {
        // A page opened without a room makes one up and puts it in the URL to share.
        expect(new URL(page.url()).searchParams.get('room')).toMatch(/\S/)
      }
      expect(failed).toEqual([])
    })
  }
})

/**
 * Many tabs of one browser on one room (requirements R38): one relay connection for all of them,
 * edits shared between the tabs and with other users, a truthful "saved" in every tab, and a
 * takeover when the tab holding the connection closes.
 */
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Session } from '../../src/index.js'
import {
  metricValue,
  startServer,
  type TestServer,
} from '../../../signaling-server/test/helpers/server.js'
import type { CoeditGlobals } from './fixtures/session-entry.js'
import { serveBundlePage } from './helpers/bundle-page.js'
import { attachConsole } from './helpers/chromium.js'
import { useChromium } from './helpers/use-chromium.js'
import type { StaticServer } from './helpers/static-server.js'

interface PageGlobals {
  coedit: CoeditGlobals
  session: Session
}

const entry = fileURLToPath(new URL('./fixtures/session-entry.ts', import.meta.url))

let server: TestServer
let web: StaticServer
const chromium = useChromium()

beforeAll(async () => {
  web = await serveBundlePage(entry)
  server = await startServer()
})
afterAll(async () => {
  await web?.close()
  await server?.close()
})

const relayConnections = () =>
  metricValue(server.server, 'coedit_connections', { endpoint: 'relay' })

/** Polls the server's relay connection count (a metric, not an event) until it reads `expected`. */
const waitForConnections = async (expected: number) => {
  for (let i = 0; i < 200; i++) {
    if ((await relayConnections()) === expected) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  expect(await relayConnections()).toBe(expected)
}

const openTab = async (context: BrowserContext, room: string, name: string): Promise<Page> => {
  const page = await context.newPage()
  attachConsole(page, name)
  await page.goto(web.url)
  await page.waitForFunction(() => 'coedit' in globalThis)
  await page.evaluate(
    ({ serverUrl, room, name }) => {
      const g = globalThis as unknown as PageGlobals
      g.session = g.coedit.createSession({
        server: serverUrl,
        room,
        user: { name, color: '#228833' },
        webrtc: false,
        reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
      })
    },
    { serverUrl: server.url, room, name },
  )
  await page.waitForFunction(
    () => (globalThis as unknown as PageGlobals).session.status.relay === 'connected',
  )
  return page
}

const type = (page: Page, text: string) =>
  page.evaluate((text) => {
    const shared = (globalThis as unknown as PageGlobals).session.getText('text')
    shared.insert(shared.length, text)
  }, text)

const waitForText = (page: Page, expected: string) =>
  page.waitForFunction(
    (expected) =>
      (globalThis as unknown as PageGlobals).session.getText('text').toString() === expected,
    expected,
  )

const isSaved = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as PageGlobals).session.saved)

describe('tabs of one browser', () => {
  it('share one relay connection, sync with each other and with other users, and hand over', async () => {
    const room = `tabs-${randomUUID()}`
    const ada = await chromium.newContext()
    const bob = await chromium.newContext()
    // The first tab takes the lock and connects; the next two follow it.
    const first = await openTab(ada, room, 'ada-1')
    const second = await openTab(ada, room, 'ada-2')
    const third = await openTab(ada, room, 'ada-3')
    await waitForConnections(1)
    const other = await openTab(bob, room, 'bob')
    await waitForConnections(2)

    // A follower's edit reaches its sibling tabs and the other user; it becomes saved only once
    // the leader's relay has persisted it.
    await type(second, 'from tab two. ')
    expect(await isSaved(second)).toBe(false)
    for (const page of [first, third, other]) await waitForText(page, 'from tab two. ')
    await second.waitForFunction(() => (globalThis as unknown as PageGlobals).session.saved)

    await type(other, 'from bob. ')
    for (const page of [first, second, third]) await waitForText(page, 'from tab two. from bob. ')

    // The leader closes: another tab takes the lock and reconnects; nothing is lost.
    await first.close({ runBeforeUnload: false })
    await third.waitForFunction(
      () => (globalThis as unknown as PageGlobals).session.status.relay === 'connected',
    )
    await waitForConnections(2)
    await type(third, 'after the handover.')
    await waitForText(other, 'from tab two. from bob. after the handover.')
    await waitForText(second, 'from tab two. from bob. after the handover.')
    await third.waitForFunction(() => (globalThis as unknown as PageGlobals).session.saved)
    await second.waitForFunction(() => (globalThis as unknown as PageGlobals).session.saved)
  })
})

/**
 * Smoke test of the browser tier with stock y-webrtc and y-websocket (no SDK code): two users in
 * two Chromium contexts edit one Y.Text through a real Coedit server, once peer to peer over
 * WebRTC (the server only signals) and once through the server's relay.
 */
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WebrtcProvider } from 'y-webrtc'
import type { WebsocketProvider } from 'y-websocket'
import type * as Y from 'yjs'
import { startServer, type TestServer } from '../../../signaling-server/test/helpers/server.js'
import type { Stock } from './fixtures/stock-entry.js'
import { buildBrowserBundle } from './helpers/bundle.js'
import { attachConsole } from './helpers/chromium.js'
import { useChromium } from './helpers/use-chromium.js'
import { startStaticServer, type StaticServer } from './helpers/static-server.js'

/** What the page's global scope holds: the bundle's `stock`, plus what each test creates. */
interface PageGlobals {
  stock: Stock
  doc: Y.Doc
  webrtc?: WebrtcProvider
  relay?: WebsocketProvider
}

const entry = fileURLToPath(new URL('./fixtures/stock-entry.ts', import.meta.url))

let server: TestServer | undefined
let web: StaticServer | undefined
const chromium = useChromium()

beforeAll(async () => {
  const bundle = await buildBrowserBundle(entry)
  web = await startStaticServer({
    // The empty icon spares a 404 (logged as a console error) for /favicon.ico.
    '/index.html': `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
      <script type="module" src="/stock.js"></script>`,
    '/stock.js': bundle,
  })
  server = await startServer()
})

afterAll(async () => {
  await web?.close()
  await server?.close()
})

/** A user: a fresh browser context (own storage, own BroadcastChannel scope) on the test page. */
const openUser = async (name: string): Promise<Page> => {
  if (web === undefined) throw new Error('beforeAll did not finish')
  const context = await chromium.newContext()
  const page = await context.newPage()
  attachConsole(page, name)
  await page.goto(web.url)
  await page.waitForFunction(() => 'stock' in globalThis)
  return page
}

/** Appends `text` to the page's shared Y.Text, as a user typing would. */
const type = (page: Page, text: string): Promise<void> =>
  page.evaluate((text) => {
    const shared = (globalThis as unknown as PageGlobals).doc.getText('text')
    shared.insert(shared.length, text)
  }, text)

/** Resolves once the page's Y.Text reads `expected` (rejects at the test timeout). */
const waitForText = async (page: Page, expected: string): Promise<void> => {
  await page.waitForFunction(
    (expected) =>
      (globalThis as unknown as PageGlobals).doc.getText('text').toString() === expected,
    expected,
  )
}

describe('browser tier with stock providers', () => {
  it('syncs edits between two browsers over WebRTC, signaled by the server', async () => {
    const room = `smoke-webrtc-${randomUUID()}`
    const signaling = `${server?.wsUrl}/signal`
    const [alice, bob] = [await openUser('alice'), await openUser('bob')]
    for (const page of [alice, bob]) {
      await page.evaluate(
        ({ room, signaling }) => {
          const g = globalThis as unknown as PageGlobals
          g.doc = new g.stock.Y.Doc()
          // No ICE servers: y-webrtc's default public STUN servers are unreachable (and must be).
          g.webrtc = new g.stock.WebrtcProvider(room, g.doc, {
            signaling: [signaling],
            peerOpts: { config: { iceServers: [] } },
          })
        },
        { room, signaling },
      )
    }

    await type(alice, 'hello from alice')
    await waitForText(bob, 'hello from alice')

    // y-webrtc carries document updates over WebRTC data channels or BroadcastChannel only (the
    // server sees nothing but signaling), and BroadcastChannel does not cross browser contexts.
    // `connected` is set on simple-peer's `connect` event, which can trail the first message by
    // a moment: wait for it rather than read it once.
    for (const page of [alice, bob]) {
      await page.waitForFunction(() => {
        const room = (globalThis as unknown as PageGlobals).webrtc?.room
        return [...(room?.webrtcConns.values() ?? [])].some((conn) => conn.connected)
      })
      const broadcastPeers = await page.evaluate(
        () => (globalThis as unknown as PageGlobals).webrtc?.room?.bcConns.size,
      )
      expect(broadcastPeers).toBe(0)
    }

    // And back, over the established connection.
    await type(bob, ', hi from bob')
    await waitForText(alice, 'hello from alice, hi from bob')
  })

  it('syncs edits between two browsers through the server relay', async () => {
    const room = `smoke-relay-${randomUUID()}`
    const relayUrl = `${server?.wsUrl}/relay`
    const [alice, bob] = [await openUser('alice'), await openUser('bob')]
    for (const page of [alice, bob]) {
      await page.evaluate(
        ({ room, relayUrl }) => {
          const g = globalThis as unknown as PageGlobals
          g.doc = new g.stock.Y.Doc()
          g.relay = new g.stock.WebsocketProvider(relayUrl, room, g.doc)
        },
        { room, relayUrl },
      )
    }

    // The only path: y-websocket's own BroadcastChannel does not cross browser contexts either.
    await type(alice, 'hello via relay')
    await waitForText(bob, 'hello via relay')
    await type(bob, ', and back')
    await waitForText(alice, 'hello via relay, and back')
  })
})

/**
 * The SDK session in real Chromium: two users in two browser contexts (no shared
 * BroadcastChannel), a real Coedit server, inside the test network namespace. Over WebRTC, over
 * the relay when one side has WebRTC disabled, and peer to peer while the server is down — after
 * which the server catches up from the sessions.
 */
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Session, SessionOptions, WebSocketConstructor } from '../../src/index.js'
import { createSession } from '../../src/index.js'
import { startServer, type TestServer } from '../../../signaling-server/test/helpers/server.js'
import type { CoeditGlobals } from './fixtures/session-entry.js'
import { serveBundlePage } from './helpers/bundle-page.js'
import { attachConsole } from './helpers/chromium.js'
import { useChromium } from './helpers/use-chromium.js'
import type { StaticServer } from './helpers/static-server.js'

interface PageGlobals {
  coedit: CoeditGlobals
  session: Session
  /** Constructor names of the origins of every document update (`Room` = y-webrtc). */
  origins: string[]
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

const openUser = async (
  name: string,
  room: string,
  options: Pick<SessionOptions, 'webrtc' | 'relay'> = {},
): Promise<Page> => {
  const context = await chromium.newContext()
  const page = await context.newPage()
  attachConsole(page, name)
  await page.goto(web.url)
  await page.waitForFunction(() => 'coedit' in globalThis)
  await page.evaluate(
    ({ serverUrl, room, name, options }) => {
      const g = globalThis as unknown as PageGlobals
      g.origins = []
      g.session = g.coedit.createSession({
        server: serverUrl,
        room,
        user: { name, color: '#3366ff' },
        iceServers: [],
        reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
        ...options,
      })
      g.session.doc.on('update', (_update: Uint8Array, origin: unknown) => {
        g.origins.push(
          (origin as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'null',
        )
      })
    },
    { serverUrl: server.url, room, name, options },
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

/** Waits until the page's session lists a peer named `name` reached by `transport`. */
const waitForPeer = (page: Page, name: string, transport: 'webrtc' | 'relay') =>
  page.waitForFunction(
    ({ name, transport }) =>
      (globalThis as unknown as PageGlobals).session
        .peers()
        .some((peer) => peer.user?.name === name && peer.transport === transport),
    { name, transport },
  )

describe('SDK sessions in Chromium', () => {
  it('connect over WebRTC and an edit arrives over it', async () => {
    const room = `webrtc-${randomUUID()}`
    // Relay off on both sides: the data channel is the only path (separate browser contexts
    // share no BroadcastChannel), so the edit cannot have come another way.
    const alice = await openUser('alice', room, { relay: false })
    const bob = await openUser('bob', room, { relay: false })
    await waitForPeer(alice, 'bob', 'webrtc')
    await waitForPeer(bob, 'alice', 'webrtc')

    await type(alice, 'over the data channel')
    await waitForText(bob, 'over the data channel')
    // Bob applied Alice's edit from y-webrtc's room.
    const origins = await bob.evaluate(() => (globalThis as unknown as PageGlobals).origins)
    expect(origins).toEqual(['Room'])
    const status = await bob.evaluate(() => (globalThis as unknown as PageGlobals).session.status)
    expect(status).toEqual({ relay: 'disabled', webrtc: 'connected' })
  })

  it('sync over the relay when one side has WebRTC disabled', async () => {
    const room = `relay-${randomUUID()}`
    const alice = await openUser('alice', room)
    const bob = await openUser('bob', room, { webrtc: false })
    await waitForPeer(alice, 'bob', 'relay')
    await type(bob, 'relayed')
    await waitForText(alice, 'relayed')
    await type(alice, ' and back')
    await waitForText(bob, 'relayed and back')
    const origins = await alice.evaluate(() => (globalThis as unknown as PageGlobals).origins)
    expect(origins).not.toContain('Room')
    expect(await bob.evaluate(() => (globalThis as unknown as PageGlobals).session.status)).toEqual(
      { relay: 'connected', webrtc: 'disabled' },
    )
  })

  it('keep syncing peer to peer with the server down; the server catches up when it returns', async () => {
    const room = `outage-${randomUUID()}`
    const alice = await openUser('alice', room)
    const bob = await openUser('bob', room)
    await waitForPeer(alice, 'bob', 'webrtc')
    await waitForPeer(bob, 'alice', 'webrtc')
    await type(alice, 'before. ')
    await waitForText(bob, 'before. ')
    await alice.waitForFunction(() => (globalThis as unknown as PageGlobals).session.saved)

    const { port } = new URL(server.url)
    await server.close({ keepData: true })
    await alice.waitForFunction(
      () => (globalThis as unknown as PageGlobals).session.status.relay !== 'connected',
    )
    await type(alice, 'during. ')
    await waitForText(bob, 'before. during. ')
    await type(bob, 'also during. ')
    await waitForText(alice, 'before. during. also during. ')
    expect(await alice.evaluate(() => (globalThis as unknown as PageGlobals).session.saved)).toBe(
      false,
    )

    server = await startServer({ port: Number(port), dataDir: server.dataDir })
    await alice.waitForFunction(() => (globalThis as unknown as PageGlobals).session.saved)
    await bob.waitForFunction(() => (globalThis as unknown as PageGlobals).session.saved)
    // A client that was never part of the outage gets everything from the server alone.
    const witness = createSession({
      server: server.url,
      room,
      webrtc: false,
      offline: false,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    })
    try {
      await witness.whenSynced()
      expect(witness.getText('text').toString()).toBe('before. during. also during. ')
    } finally {
      await witness.destroy()
    }
  })

  it('withdraws presence on pagehide and restores it on pageshow from the back/forward cache', async () => {
    const room = `presence-${randomUUID()}`
    const alice = await openUser('alice', room, { webrtc: false })
    const bob = await openUser('bob', room, { webrtc: false })
    await waitForPeer(bob, 'alice', 'relay')
    // The event a browser fires when the page is hidden for the back/forward cache: Alice's
    // socket stays open, so only the SDK's own purge can remove her from Bob's list.
    await alice.evaluate(() =>
      window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })),
    )
    await bob.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).session.peers().every((p) => p.user?.name !== 'alice'),
    )
    expect(
      await alice.evaluate(() => (globalThis as unknown as PageGlobals).session.status.relay),
    ).toBe('connected')
    await alice.evaluate(() =>
      window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })),
    )
    await waitForPeer(bob, 'alice', 'relay')
  })

  it('apply each edit once when it arrives over both WebRTC and the relay', async () => {
    const room = `both-${randomUUID()}`
    const alice = await openUser('alice', room)
    const bob = await openUser('bob', room)
    const carol = await openUser('carol', room, { webrtc: false })
    await waitForPeer(bob, 'alice', 'webrtc')
    await waitForPeer(bob, 'carol', 'relay')
    await bob.evaluate(() => {
      ;(globalThis as unknown as PageGlobals).origins = []
    })
    for (const char of 'abcdefghijklmnopqrst') await type(alice, char)
    await alice.waitForFunction(() => (globalThis as unknown as PageGlobals).session.saved)
    // Carol's edit reaches Bob only through the relay, after the server had relayed Alice's
    // twenty (it received them first, and one socket delivers in order): by then Bob has had
    // every edit of Alice's twice.
    await type(carol, '!')
    await waitForText(bob, 'abcdefghijklmnopqrst!')
    const origins = await bob.evaluate(() => (globalThis as unknown as PageGlobals).origins)
    expect(origins).toHaveLength(21)
    expect(origins).toContain('Room')
  })
})

/**
 * Sessions in Chromium against a server that requires tokens: `getToken()` (here a function the
 * test exposes to the page) feeds both the relay and WebRTC signaling; a refused token ends in an
 * `error` event with its code instead of a reconnect loop.
 */
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Session, TransportError } from '../../src/index.js'
import { generateKeyPair, signToken } from '../../../signaling-server/src/auth/dev-keys.js'
import { createTokenVerifier } from '../../../signaling-server/src/auth/token-verifier.js'
import { startServer, type TestServer } from '../../../signaling-server/test/helpers/server.js'
import type { CoeditGlobals } from './fixtures/session-entry.js'
import { serveBundlePage } from './helpers/bundle-page.js'
import { attachConsole } from './helpers/chromium.js'
import { useChromium } from './helpers/use-chromium.js'
import type { StaticServer } from './helpers/static-server.js'

interface PageGlobals {
  coedit: CoeditGlobals
  session: Session
  errors: TransportError[]
  /** Exposed by the test: signs a token for the room it is told. */
  issueToken(room: string): Promise<string>
}

const entry = fileURLToPath(new URL('./fixtures/session-entry.ts', import.meta.url))

let server: TestServer
let web: StaticServer
let keys: Awaited<ReturnType<typeof generateKeyPair>>
const chromium = useChromium()
const tokenCalls = new Map<string, number>()

beforeAll(async () => {
  keys = await generateKeyPair('ES256')
  web = await serveBundlePage(entry)
  server = await startServer({ auth: createTokenVerifier({ jwks: keys.publicJwks }) })
})
afterAll(async () => {
  await web?.close()
  await server?.close()
})

/** A user whose getToken() asks the test for a token for `tokenRoom`. */
const openUser = async (name: string, room: string, tokenRoom = room): Promise<Page> => {
  const context = await chromium.newContext()
  const page = await context.newPage()
  attachConsole(page, name)
  await page.exposeFunction('issueToken', async (forRoom: string) => {
    tokenCalls.set(name, (tokenCalls.get(name) ?? 0) + 1)
    return signToken({ privateJwk: keys.privateJwk, room: forRoom, perm: 'write', ttlSeconds: 300 })
  })
  await page.goto(web.url)
  await page.waitForFunction(() => 'coedit' in globalThis)
  await page.evaluate(
    ({ serverUrl, room, name, tokenRoom }) => {
      const g = globalThis as unknown as PageGlobals
      g.errors = []
      g.session = g.coedit.createSession({
        server: serverUrl,
        room,
        user: { name, color: '#aa2200' },
        iceServers: [],
        getToken: () => g.issueToken(tokenRoom),
      })
      g.session.on('error', (error) => g.errors.push(error))
    },
    { serverUrl: server.url, room, name, tokenRoom },
  )
  return page
}

describe('SDK sessions with auth in Chromium', () => {
  it('get tokens for the relay and for signaling, and connect peer to peer', async () => {
    const room = `auth-${randomUUID()}`
    const alice = await openUser('alice', room)
    const bob = await openUser('bob', room)
    for (const [page, other] of [
      [alice, 'bob'],
      [bob, 'alice'],
    ] as const) {
      await page.waitForFunction(
        (other) =>
          (globalThis as unknown as PageGlobals).session
            .peers()
            .some((peer) => peer.user?.name === other && peer.transport === 'webrtc'),
        other,
      )
    }
    await alice.evaluate(() =>
      (globalThis as unknown as PageGlobals).session.getText('text').insert(0, 'signed in'),
    )
    await bob.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).session.getText('text').toString() === 'signed in',
    )
    await alice.waitForFunction(() => (globalThis as unknown as PageGlobals).session.saved)
    // One token for the relay, one for signaling.
    expect(tokenCalls.get('alice')).toBe(2)
    expect(await alice.evaluate(() => (globalThis as unknown as PageGlobals).errors)).toEqual([])
  })

  it('a token for another room is refused on both paths with "forbidden", once', async () => {
    const room = `auth-${randomUUID()}`
    const mallory = await openUser('mallory', room, 'some-other-room')
    await mallory.waitForFunction(() => (globalThis as unknown as PageGlobals).errors.length >= 2)
    const errors = await mallory.evaluate(() => (globalThis as unknown as PageGlobals).errors)
    expect(errors.map(({ code, transport }) => `${transport}:${code}`).sort()).toEqual([
      'relay:forbidden',
      'webrtc:forbidden',
    ])
    // A round trip to the page and the server later, still nothing retried.
    const status = await mallory.evaluate(
      () => (globalThis as unknown as PageGlobals).session.status,
    )
    expect(status).toEqual({ relay: 'offline', webrtc: 'offline' })
    expect(tokenCalls.get('mallory')).toBe(2)
  })
})

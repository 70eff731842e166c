/**
 * With a server that requires tokens, the extension's session fetches one from the token URL of
 * its options for every connection — in the extension's own pages, never in the shared page: a
 * hostile page script sees neither the token nor the room key, and the edit still reaches the
 * server (only an authorised connection can make "saved" true).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { typeAtEnd } from '../../../sdk/test/browser/helpers/coedit-site.js'
import {
  startStaticServer,
  type StaticServer,
} from '../../../sdk/test/browser/helpers/static-server.js'
import { generateKeyPair, signToken } from '../../../signaling-server/src/auth/dev-keys.js'
import { createTokenVerifier } from '../../../signaling-server/src/auth/token-verifier.js'
import { startServer, type TestServer } from '../../../signaling-server/test/helpers/server.js'
import { parseInviteLink } from '../../src/shared/messages.js'
import {
  launchProfile,
  prepareExtension,
  type ExtensionProfile,
  type PreparedExtension,
} from './helpers/extension-browser.js'

const snoop = readFileSync(new URL('./fixtures/snoop.js', import.meta.url), 'utf8')

let server: TestServer
let site: StaticServer
let tokens: Server
let tokenUrl: string
let extension: PreparedExtension
let profile: ExtensionProfile | undefined
/** Every token the endpoint handed out. */
const issued: string[] = []

beforeAll(async () => {
  const keys = await generateKeyPair('ES256')
  server = await startServer({ auth: createTokenVerifier({ jwks: keys.publicJwks }) })
  // The token endpoint: its own origin (another port), no CORS — a page cannot read it.
  tokens = createServer((request, response) => {
    const room = new URL(request.url ?? '/', 'http://127.0.0.1').searchParams.get('room') ?? ''
    signToken({ privateJwk: keys.privateJwk, room, perm: 'write', ttlSeconds: 300 })
      .then((token) => {
        issued.push(token)
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end(JSON.stringify({ token }))
      })
      .catch((error: unknown) => response.writeHead(400).end(String(error)))
  })
  await new Promise<void>((resolve) => tokens.listen(0, '127.0.0.1', resolve))
  tokenUrl = `http://127.0.0.1:${(tokens.address() as AddressInfo).port}/coedit-token`
  site = await startStaticServer({
    '/notes.html': `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
      <script src="/snoop.js"></script>
      <label for="notes">Notes</label><textarea id="notes" rows="4" cols="40"></textarea>`,
    '/snoop.js': snoop,
  })
  extension = prepareExtension()
})
afterAll(async () => {
  await profile?.close()
  extension?.remove()
  await site?.close()
  await new Promise((resolve) => tokens?.close(resolve))
  await server?.close()
})

describe('the extension with a token-protected server', () => {
  it('connects with tokens from its token URL, which the page never sees', async () => {
    profile = await launchProfile(extension.dir)
    await profile.worker.evaluate((settings) => chrome.storage.local.set(settings), {
      server: server.url,
      tokenUrl,
    })
    const page = await profile.open(`${site.url}/notes.html`, 'page')
    const popup = await profile.popup(page, 'popup')
    await popup.waitForSelector('html[data-ready="true"]')
    await popup.click('#share')
    await page.waitForSelector('[data-coedit-picker]')
    await page.click('#notes', { force: true })
    await typeAtEnd(page, '#notes', 'only with a token')
    await page.waitForFunction(
      () =>
        document.querySelector<HTMLElement>('[data-coedit-extension-panel]')?.dataset['saved'] ===
        'true',
    )
    expect(issued.length).toBeGreaterThan(0)

    const key = parseInviteLink(await popup.inputValue('#invite-link'))?.invite.key ?? ''
    expect(key).not.toBe('')
    const seen = await page.evaluate(() => {
      const g = globalThis as unknown as { __sweep(label: string): void; __seen: string[] }
      g.__sweep('end')
      return g.__seen.join('\n')
    })
    // Tokens are JWTs: compare their signatures, the part no two tokens share.
    for (const token of issued) expect(seen).not.toContain(token.split('.')[2])
    expect(seen).not.toContain(key)
    // And the page cannot fetch one itself: the endpoint is another origin without CORS.
    const fetched = await page.evaluate(
      (url) =>
        fetch(`${url}?room=x`)
          .then((response) => response.text())
          .catch((error: unknown) => `blocked: ${String(error)}`),
      tokenUrl,
    )
    expect(fetched).toMatch(/^blocked/)
  })
})

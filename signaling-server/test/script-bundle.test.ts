/**
 * The `coedit.js` bundle over HTTP: `/coedit.js` (short cache), `/coedit.<hash>.js` (immutable,
 * current hash only) and `/coedit.json` (hashed URL + SRI), all cross-origin, with ETags and
 * HEAD; a rebuild on disk is served without a restart. The bundle is a small file each test
 * writes itself, so nothing depends on the SDK being built.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { CoeditError } from '@coedit/sdk/protocol'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createServer } from '../src/index.js'
import { defaultScriptBundlePath } from '../src/http/script-bundle.js'
import { rawRequest, type RawResponse } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

const servers: TestServer[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'coedit-bundle-'))
  dirs.push(dir)
  return dir
}

const FIRST_BUILD = 'window.Coedit = { version: "1" }\n'
const SECOND_BUILD = 'window.Coedit = { version: "2", rebuilt: true }\n'

/** A bundle file with `content`, and a server serving it. */
const serveBundle = async (content = FIRST_BUILD) => {
  const file = join(tempDir(), 'coedit.js')
  writeFileSync(file, content)
  const server = await startServer({ scriptBundle: file })
  servers.push(server)
  return {
    file,
    server,
    get: (path: string, headers?: Record<string, string>) =>
      rawRequest(server.url, path, headers === undefined ? {} : { headers }),
  }
}

const sha256Prefix = (content: string) =>
  createHash('sha256').update(content).digest('hex').slice(0, 12)
const sri = (content: Buffer | string) =>
  `sha384-${createHash('sha384').update(content).digest('base64')}`

interface Manifest {
  script: string
  integrity: string
  bytes: number
}
const manifestOf = (response: RawResponse) => JSON.parse(response.text) as Manifest

const expectCrossOrigin = (response: RawResponse) => {
  expect(response.headers['access-control-allow-origin']).toBe('*')
  expect(response.headers['cross-origin-resource-policy']).toBe('cross-origin')
  expect(response.headers['x-content-type-options']).toBe('nosniff')
}

describe('script bundle', () => {
  it('serves /coedit.js as JavaScript, cross-origin, cached for five minutes, with an ETag', async () => {
    const { get } = await serveBundle()
    const response = await get('/coedit.js')
    expect(response.status).toBe(200)
    expect(response.text).toBe(FIRST_BUILD)
    expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(response.headers['cache-control']).toBe('public, max-age=300')
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(FIRST_BUILD)))
    expect(response.headers['etag']).toMatch(/^"[^"]+"$/)
    expectCrossOrigin(response)
  })

  it('names the hashed URL and its SRI in /coedit.json, and serves those bytes immutable', async () => {
    const { get } = await serveBundle()
    const manifestResponse = await get('/coedit.json')
    expect(manifestResponse.status).toBe(200)
    expect(manifestResponse.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(manifestResponse.headers['cache-control']).toBe('public, max-age=300')
    expectCrossOrigin(manifestResponse)
    const manifest = manifestOf(manifestResponse)
    expect(manifest).toEqual({
      script: `/coedit.${sha256Prefix(FIRST_BUILD)}.js`,
      integrity: sri(FIRST_BUILD),
      bytes: Buffer.byteLength(FIRST_BUILD),
    })

    const pinned = await get(manifest.script)
    expect(pinned.status).toBe(200)
    // What a browser checks for <script integrity>: the digest of the bytes it received.
    expect(sri(pinned.body)).toBe(manifest.integrity)
    expect(pinned.body.length).toBe(manifest.bytes)
    expect(pinned.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(pinned.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expectCrossOrigin(pinned)
  })

  it('answers 304 to a matching If-None-Match on all three routes, keeping the CORS headers', async () => {
    const { get } = await serveBundle()
    const { script } = manifestOf(await get('/coedit.json'))
    for (const path of ['/coedit.js', '/coedit.json', script]) {
      const first = await get(path)
      const etag = first.headers['etag']
      expect(etag, path).toBeDefined()
      const again = await get(path, { 'If-None-Match': `"other", W/${etag ?? ''}` })
      expect(again.status, path).toBe(304)
      expect(again.body.length, path).toBe(0)
      expect(again.headers['etag'], path).toBe(etag)
      expect(again.headers['cache-control'], path).toBe(first.headers['cache-control'])
      expectCrossOrigin(again)
      const stale = await get(path, { 'If-None-Match': '"something-else"' })
      expect(stale.status, path).toBe(200)
    }
  })

  it('answers HEAD with the headers of GET and no body', async () => {
    const { server } = await serveBundle()
    for (const path of ['/coedit.js', '/coedit.json']) {
      const get = await rawRequest(server.url, path)
      const head = await rawRequest(server.url, path, { method: 'HEAD' })
      expect(head.status, path).toBe(200)
      expect(head.body.length, path).toBe(0)
      expect(head.headers['content-length'], path).toBe(String(get.body.length))
      for (const name of ['content-type', 'cache-control', 'etag']) {
        expect(head.headers[name], `${path} ${name}`).toBe(get.headers[name])
      }
      expectCrossOrigin(head)
    }
  })

  it('answers 404, never cached, for an unknown hash', async () => {
    const { get } = await serveBundle()
    for (const path of ['/coedit.000000000000.js', '/coedit.abc.js', '/coedit.ABCDEF012345.js']) {
      const response = await get(path)
      expect(response.status, path).toBe(404)
      expect(response.headers['cache-control'], path).toBe('no-store')
      expect(response.text, path).not.toContain('Coedit')
    }
  })

  it('serves a bundle rebuilt on disk at once, under a new hash, and 404s the old hash', async () => {
    const { file, get } = await serveBundle()
    const before = manifestOf(await get('/coedit.json'))
    const oldEtag = (await get('/coedit.js')).headers['etag'] ?? ''

    writeFileSync(file, SECOND_BUILD)
    const current = await get('/coedit.js')
    expect(current.text).toBe(SECOND_BUILD)
    expect(current.headers['etag']).not.toBe(oldEtag)
    expect((await get('/coedit.js', { 'If-None-Match': oldEtag })).status).toBe(200)
    const after = manifestOf(await get('/coedit.json'))
    expect(after).toEqual({
      script: `/coedit.${sha256Prefix(SECOND_BUILD)}.js`,
      integrity: sri(SECOND_BUILD),
      bytes: Buffer.byteLength(SECOND_BUILD),
    })
    expect(after.script).not.toBe(before.script)
    expect((await get(after.script)).text).toBe(SECOND_BUILD)
    expect((await get(before.script)).status).toBe(404)
  })

  it('answers 404 while the file is missing mid-rebuild, and serves it again once it is back', async () => {
    const { file, get } = await serveBundle()
    expect((await get('/coedit.js')).status).toBe(200)
    unlinkSync(file)
    const missing = await get('/coedit.js')
    expect(missing.status).toBe(404)
    expect(missing.headers['cache-control']).toBe('no-store')
    expect((await get('/coedit.json')).status).toBe(404)
    writeFileSync(file, SECOND_BUILD)
    expect((await get('/coedit.js')).text).toBe(SECOND_BUILD)
  })

  it('serves no bundle with scriptBundle: false, and says so on the home page', async () => {
    const server = await startServer({ scriptBundle: false })
    servers.push(server)
    expect((await rawRequest(server.url, '/coedit.js')).status).toBe(404)
    expect((await rawRequest(server.url, '/coedit.json')).status).toBe(404)
    const home = await rawRequest(server.url, '/')
    expect(home.status).toBe(200)
    expect(home.text).toContain('Script: not served')
  })

  it('answers / without a public directory with a text page naming the server and the bundle URL', async () => {
    const { get } = await serveBundle()
    const home = await get('/')
    expect(home.status).toBe(200)
    expect(home.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(home.headers['cache-control']).toBe('no-store')
    expect(home.text).toContain('Coedit server')
    expect(home.text).toContain('/coedit.js')
    expect(home.text).toContain('/coedit.json')
    expect((await get('/index.html')).status).toBe(404)
  })

  it('refuses to start with a bundle path that does not exist, naming the fixes', () => {
    const missing = join(tempDir(), 'nope.js')
    let thrown: unknown
    try {
      createServer({ port: 0, logger: false, dataDir: tempDir(), scriptBundle: missing })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(CoeditError)
    expect((thrown as CoeditError).code).toBe('script-bundle-missing')
    expect((thrown as CoeditError).message).toContain(missing)
    expect((thrown as CoeditError).message).toContain('--no-script-bundle')
  })

  it('serves the SDK build by default when there is one, else logs how to build it', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString())
        done()
      },
    })
    const server = await startServer({ logger: pino({ level: 'info' }, sink) })
    servers.push(server)
    const built = defaultScriptBundlePath()
    const response = await rawRequest(server.url, '/coedit.js')
    if (built === undefined) {
      expect(lines.join('')).toContain(
        'script bundle not built: run `npm run build`; /coedit.js will answer 404',
      )
      expect(response.status).toBe(404)
    } else {
      expect(built).toMatch(/sdk[/\\]dist[/\\]script[/\\]coedit\.js$/)
      expect(response.status).toBe(200)
      expect(response.body.equals(readFileSync(built))).toBe(true)
    }
  })
})

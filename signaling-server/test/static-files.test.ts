/**
 * The public directory (`publicDir`, `--public`): index pages, nested files, content types,
 * revalidation (`no-cache` + ETag → 304), HEAD, streaming — and that no URL reaches a file outside
 * the directory (`..` plain or encoded, backslashes, NUL, symlinks out), nor a dot-file, nor
 * shadows a route of the server.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CoeditError } from '@coedit/sdk/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { createServer } from '../src/index.js'
import { segmentsOf } from '../src/http/static-files.js'
import { rawRequest } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

const servers: TestServer[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const SECRET = 'TOP-SECRET-OUTSIDE-THE-PUBLIC-DIRECTORY'
const INDEX = '<!doctype html><title>Coedit demo</title>'

/**
 * A temporary tree: `secret.txt` and `package.json` next to `public/`, which holds an index, a
 * nested directory, a dot-file, and symlinks both inside and out.
 */
const makeSite = () => {
  const base = mkdtempSync(join(tmpdir(), 'coedit-public-'))
  dirs.push(base)
  writeFileSync(join(base, 'secret.txt'), SECRET)
  writeFileSync(join(base, 'package.json'), JSON.stringify({ secret: SECRET }))
  const publicDir = join(base, 'public')
  mkdirSync(join(publicDir, 'room', 'assets'), { recursive: true })
  mkdirSync(join(publicDir, 'empty'))
  writeFileSync(join(publicDir, 'index.html'), INDEX)
  writeFileSync(join(publicDir, 'room', 'index.html'), '<title>room</title>')
  writeFileSync(join(publicDir, 'room', 'assets', 'app.js'), 'console.log("app")\n')
  writeFileSync(join(publicDir, '.env'), SECRET)
  symlinkSync(join(base, 'secret.txt'), join(publicDir, 'link-out.txt'))
  symlinkSync(base, join(publicDir, 'dir-out'))
  symlinkSync(join(publicDir, 'room', 'assets', 'app.js'), join(publicDir, 'link-in.js'))
  return { base, publicDir }
}

const serveSite = async () => {
  const site = makeSite()
  const server = await startServer({ publicDir: site.publicDir, scriptBundle: false })
  servers.push(server)
  return { ...site, server, get: (path: string) => rawRequest(server.url, path) }
}

describe('public directory', () => {
  it('serves index.html at / with no-cache, an ETag and nosniff', async () => {
    const { get } = await serveSite()
    const response = await get('/')
    expect(response.status).toBe(200)
    expect(response.text).toBe(INDEX)
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(INDEX)))
    expect(response.headers['cache-control']).toBe('no-cache')
    expect(response.headers['etag']).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/)
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    expect((await get('/index.html?from=test')).text).toBe(INDEX)
  })

  it('serves nested files and directory indexes, redirecting a directory to its slash form', async () => {
    const { get } = await serveSite()
    const app = await get('/room/assets/app.js')
    expect(app.status).toBe(200)
    expect(app.text).toBe('console.log("app")\n')
    expect(app.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect((await get('/room/')).text).toBe('<title>room</title>')
    const redirect = await get('/room?x=1')
    expect(redirect.status).toBe(301)
    expect(redirect.headers['location']).toBe('/room/?x=1')
    // A directory without an index is not listed.
    expect((await get('/empty/')).status).toBe(404)
  })

  it('sends the content type of each known extension, and octet-stream otherwise', async () => {
    const { publicDir, get } = await serveSite()
    const expected: Record<string, string> = {
      'a.html': 'text/html; charset=utf-8',
      'a.js': 'text/javascript; charset=utf-8',
      'a.mjs': 'text/javascript; charset=utf-8',
      'a.css': 'text/css; charset=utf-8',
      'a.svg': 'image/svg+xml',
      'a.png': 'image/png',
      'favicon.ico': 'image/x-icon',
      'a.json': 'application/json; charset=utf-8',
      'a.js.map': 'application/json; charset=utf-8',
      'font.woff2': 'font/woff2',
      'UPPER.CSS': 'text/css; charset=utf-8',
      'data.bin': 'application/octet-stream',
      'no-extension': 'application/octet-stream',
    }
    for (const name of Object.keys(expected)) writeFileSync(join(publicDir, name), 'x')
    for (const [name, type] of Object.entries(expected)) {
      const response = await get(`/${name}`)
      expect(response.status, name).toBe(200)
      expect(response.headers['content-type'], name).toBe(type)
    }
  })

  it('answers 304 to a matching ETag, and 200 with a new ETag once the file changed', async () => {
    const { publicDir, get, server } = await serveSite()
    const first = await get('/')
    const etag = first.headers['etag'] ?? ''
    const cached = await rawRequest(server.url, '/', { headers: { 'If-None-Match': etag } })
    expect(cached.status).toBe(304)
    expect(cached.body.length).toBe(0)
    expect(cached.headers['etag']).toBe(etag)
    expect(cached.headers['cache-control']).toBe('no-cache')

    writeFileSync(join(publicDir, 'index.html'), `${INDEX}<p>changed</p>`)
    const later = new Date(Date.now() + 5_000)
    utimesSync(join(publicDir, 'index.html'), later, later)
    const changed = await rawRequest(server.url, '/', { headers: { 'If-None-Match': etag } })
    expect(changed.status).toBe(200)
    expect(changed.text).toContain('changed')
    expect(changed.headers['etag']).not.toBe(etag)
  })

  it('answers HEAD with the length and no body', async () => {
    const { server } = await serveSite()
    const head = await rawRequest(server.url, '/room/assets/app.js', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
    expect(head.headers['content-length']).toBe(String('console.log("app")\n'.length))
    expect(head.headers['content-type']).toBe('text/javascript; charset=utf-8')
  })

  it('streams a file larger than one read chunk intact', async () => {
    const { publicDir, get } = await serveSite()
    const big = Buffer.alloc(3 * 1024 * 1024 + 17)
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
    writeFileSync(join(publicDir, 'big.png'), big)
    const response = await get('/big.png')
    expect(response.status).toBe(200)
    expect(response.body.equals(big)).toBe(true)
  })

  it('answers 404 JSON, never cached, for a missing file; 405 for other methods', async () => {
    const { server, get } = await serveSite()
    const missing = await get('/nope.html')
    expect(missing.status).toBe(404)
    expect(missing.headers['cache-control']).toBe('no-store')
    expect(JSON.parse(missing.text)).toEqual({ error: 'not found' })
    const post = await rawRequest(server.url, '/index.html', { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers['allow']).toBe('GET, HEAD')
  })

  it('never serves a file outside the directory, whatever the path looks like', async () => {
    const { get } = await serveSite()
    const attempts = [
      '/../secret.txt',
      '/../package.json',
      '/room/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/package.json',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/room/..%2f..%2fsecret.txt',
      '/room/%2e%2e/%2e%2e/secret.txt',
      '/..\\secret.txt',
      '/..%5csecret.txt',
      '/room\\..\\..\\secret.txt',
      '/index.html%00',
      '/secret.txt%00.html',
      '/%00',
      '/link-out.txt',
      '/dir-out/secret.txt',
      '/dir-out/package.json',
      '//secret.txt',
      '/.env',
      '/%2eenv',
      '/room/%2e',
      '/%',
      '/%zz',
    ]
    for (const path of attempts) {
      const response = await get(path)
      expect(response.status, path).toBe(404)
      expect(response.text, path).not.toContain(SECRET)
      expect(response.text, path).toBe('{"error":"not found"}')
    }
  })

  it('follows symlinks that stay inside the directory', async () => {
    const { get } = await serveSite()
    const response = await get('/link-in.js')
    expect(response.status).toBe(200)
    expect(response.text).toBe('console.log("app")\n')
  })

  it('lets server routes win over files of the same name', async () => {
    const site = makeSite()
    for (const name of ['healthz', 'metrics', 'coedit.js', 'coedit.json', 'signal']) {
      writeFileSync(join(site.publicDir, name), `file ${name}`)
    }
    mkdirSync(join(site.publicDir, 'relay'))
    writeFileSync(join(site.publicDir, 'relay', 'room'), 'file relay/room')
    const bundle = join(site.base, 'bundle.js')
    writeFileSync(bundle, 'window.Coedit = {}\n')
    const server = await startServer({ publicDir: site.publicDir, scriptBundle: bundle })
    servers.push(server)
    const get = (path: string) => rawRequest(server.url, path)

    expect(JSON.parse((await get('/healthz')).text)).toMatchObject({ status: 'ok' })
    expect((await get('/metrics')).text).toContain('coedit_')
    expect((await get('/coedit.js')).text).toBe('window.Coedit = {}\n')
    expect(JSON.parse((await get('/coedit.json')).text)).toHaveProperty('integrity')
    for (const path of ['/signal', '/relay/room']) {
      const response = await get(path)
      expect(response.status, path).toBe(404)
      expect(response.text, path).not.toContain('file')
    }
  })

  it('serves a public coedit.js when the bundle is turned off', async () => {
    const { publicDir, get } = await serveSite()
    writeFileSync(join(publicDir, 'coedit.js'), '/* own copy */')
    const response = await get('/coedit.js')
    expect(response.text).toBe('/* own copy */')
    expect(response.headers['cache-control']).toBe('no-cache')
  })

  it('refuses to start when the directory does not exist, naming the option', () => {
    const missing = join(makeSite().base, 'not-built')
    let thrown: unknown
    try {
      createServer({ port: 0, logger: false, dataDir: missing, publicDir: missing })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(CoeditError)
    expect((thrown as CoeditError).code).toBe('public-dir-missing')
    expect((thrown as CoeditError).message).toContain('--public')
  })

  it('splits a URL path into decoded segments, refusing anything that could step out', () => {
    expect(segmentsOf('/')).toEqual([])
    expect(segmentsOf('/a/b%20c/')).toEqual(['a', 'b c'])
    expect(segmentsOf('/caf%C3%A9.html')).toEqual(['café.html'])
    for (const path of ['', 'a', '/..', '/a/./b', '/a//b', '/a%2fb', '/a%5cb', '/a%00', '/%e9']) {
      expect(segmentsOf(path), path).toBeUndefined()
    }
  })
})

/**
 * A tiny HTTP server for test pages and bundles, on 127.0.0.1 and a free port. Inside the test
 * namespace Chromium reaches it (and a Coedit server on 127.0.0.1) over loopback; only WebRTC
 * needs the veth address.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname } from 'node:path'

export interface StaticServer {
  /** `http://127.0.0.1:port` (no trailing slash). */
  readonly url: string
  /** Stops listening and drops open connections (idempotent). */
  close(): Promise<void>
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
}

export interface StaticServerOptions {
  /**
   * Serve cross-origin isolated (COOP `same-origin` + COEP `require-corp`): only then does
   * Chromium give pages `performance.now()` at 5 µs resolution rather than 100 µs (the
   * benchmarks need it for latencies of about a millisecond). Default false.
   */
  readonly crossOriginIsolated?: boolean
}

/**
 * Serves `files`, keyed by URL path (`'/index.html'`, `'/bundle.js'`); `/` serves
 * `/index.html`. Anything else is a 404. Responses are never cached, so a page always loads the
 * bundle of the current test run.
 */
export const startStaticServer = async (
  files: Record<string, string | Buffer>,
  options: StaticServerOptions = {},
): Promise<StaticServer> => {
  const isolation: Record<string, string> = options.crossOriginIsolated
    ? {
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      }
    : {}
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname
    const key = path === '/' ? '/index.html' : path
    const body = files[key]
    if (body === undefined || request.method !== 'GET') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`)
      return
    }
    response
      .writeHead(200, {
        'content-type': CONTENT_TYPES[extname(key)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
        ...isolation,
      })
      .end(body)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        // Keep-alive sockets from the browser would otherwise hold close() open.
        server.closeAllConnections()
      })
      return closed
    },
  }
}

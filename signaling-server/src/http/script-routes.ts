/**
 * HTTP routes of the script bundle:
 *
 * - `/coedit.js` — the current build, cached briefly (`max-age=300`) so a new build reaches
 *   pages within minutes; revalidated by ETag.
 * - `/coedit.<hash>.js` — the same bytes under their content hash, cached for a year
 *   (`immutable`). Only the current hash is served: an older one answers 404, never other bytes.
 * - `/coedit.json` — `{ script, integrity, bytes }`, so a site can pin the hashed URL with SRI.
 *
 * Any site may embed the script, so all three are cross-origin by design: CORS `*` (fetch and
 * `<script crossorigin integrity>` need it) and `Cross-Origin-Resource-Policy: cross-origin`
 * (pages with COEP `require-corp` need it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { isNotModified, sendApi, sendNotFound } from './responses.js'
import { BUNDLE_HASH_LENGTH, type BundleVersion, type ScriptBundle } from './script-bundle.js'

export const SCRIPT_PATH = '/coedit.js'
export const SCRIPT_MANIFEST_PATH = '/coedit.json'
const HASHED_SCRIPT_PATH = new RegExp(`^/coedit\\.([0-9a-f]{${BUNDLE_HASH_LENGTH}})\\.js$`)

const SHORT_CACHE = 'public, max-age=300'
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable'
const SCRIPT_TYPE = 'text/javascript; charset=utf-8'
const JSON_TYPE = 'application/json; charset=utf-8'

const CROSS_ORIGIN_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'X-Content-Type-Options': 'nosniff',
} as const

/** The hashed URL of a version, as `/coedit.json` names it. */
export const hashedScriptPath = (version: BundleVersion): string => `/coedit.${version.hash}.js`

interface Representation {
  readonly body: Buffer
  readonly contentType: string
  readonly cacheControl: string
  readonly etag: string
}

const reply = (request: IncomingMessage, response: ServerResponse, what: Representation) => {
  const headers = { ...CROSS_ORIGIN_HEADERS, 'Cache-Control': what.cacheControl, ETag: what.etag }
  if (isNotModified(request, what.etag)) {
    response.writeHead(304, headers)
    response.end()
    return
  }
  response.writeHead(200, {
    ...headers,
    'Content-Type': what.contentType,
    'Content-Length': what.body.length,
  })
  response.end(request.method === 'HEAD' ? undefined : what.body)
}

const manifestOf = (version: BundleVersion): Buffer =>
  Buffer.from(
    JSON.stringify({
      script: hashedScriptPath(version),
      integrity: version.integrity,
      bytes: version.content.length,
    }),
  )

export interface ScriptRoutes {
  /**
   * Answers `request` if `path` is one of the bundle's routes and returns true; returns false
   * (and does nothing) for any other path.
   */
  handle(request: IncomingMessage, response: ServerResponse, path: string): boolean
}

export const createScriptRoutes = (bundle: ScriptBundle, logger: Logger): ScriptRoutes => {
  const answer = async (request: IncomingMessage, response: ServerResponse, path: string) => {
    const version = await bundle.current()
    if (version === undefined) return sendNotFound(response)
    if (path === SCRIPT_PATH) {
      const { content: body, hash } = version
      return reply(request, response, {
        body,
        contentType: SCRIPT_TYPE,
        cacheControl: SHORT_CACHE,
        etag: `"${hash}"`,
      })
    }
    if (path === SCRIPT_MANIFEST_PATH) {
      return reply(request, response, {
        body: manifestOf(version),
        contentType: JSON_TYPE,
        cacheControl: SHORT_CACHE,
        etag: `"manifest-${version.hash}"`,
      })
    }
    // A stale hash must not be answered with the current bytes: they would be cached for a
    // year under the wrong name, and fail the page's integrity check anyway.
    if (path !== hashedScriptPath(version)) return sendNotFound(response)
    return reply(request, response, {
      body: version.content,
      contentType: SCRIPT_TYPE,
      cacheControl: IMMUTABLE_CACHE,
      etag: `"${version.hash}"`,
    })
  }

  return {
    handle(request, response, path) {
      if (path !== SCRIPT_PATH && path !== SCRIPT_MANIFEST_PATH && !HASHED_SCRIPT_PATH.test(path)) {
        return false
      }
      answer(request, response, path).catch((error: unknown) => {
        logger.error({ err: error }, 'serving the script bundle failed')
        if (!response.headersSent) sendApi(response, 500, JSON.stringify({ error: 'internal' }))
        else response.destroy()
      })
      return true
    },
  }
}

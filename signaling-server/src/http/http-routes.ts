/**
 * Plain HTTP, in order of precedence: `/healthz`, `/metrics`, the script bundle (`/coedit.js`,
 * `/coedit.<hash>.js`, `/coedit.json`), the WebSocket endpoints (upgrades only: a plain GET is a
 * 404), then the public directory's files if one is configured — so a file can never shadow a
 * route. Without a public directory `/` answers a short text page naming the server.
 *
 * API answers carry `Cache-Control: no-store` so that no CDN or browser cache ever serves a stale
 * one (R33); the bundle and the files set their own cache policy.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { RELAY_PATH, SIGNAL_PATH } from '@coedit/sdk/protocol'
import type { Logger } from 'pino'
import type { Metrics } from '../metrics.js'
import { sendApi, sendNotFound } from './responses.js'
import type { ScriptBundle } from './script-bundle.js'
import { createScriptRoutes, SCRIPT_MANIFEST_PATH, SCRIPT_PATH } from './script-routes.js'
import type { StaticFiles } from './static-files.js'

export interface HealthSource {
  storageHealthy(): Promise<boolean>
  rooms(): number
  connections(): number
  /** The Redis bus's state; absent when the instance runs without one. */
  redis?: (() => 'up' | 'down') | undefined
}

export interface HttpRoutesOptions {
  metrics: Metrics
  health: HealthSource
  logger: Logger
  /** The bundle to serve; absent: its routes answer 404 (or a public file of that name). */
  scriptBundle?: ScriptBundle | undefined
  /** The public directory; absent: `/` is the text page and other paths are 404. */
  publicFiles?: StaticFiles | undefined
}

const isWebSocketPath = (path: string): boolean =>
  [SIGNAL_PATH, RELAY_PATH].some((prefix) => path === prefix || path.startsWith(`${prefix}/`))

const homePage = (bundle: boolean): string =>
  [
    'Coedit server',
    '',
    bundle
      ? `Script: ${SCRIPT_PATH} (hashed URL and integrity: ${SCRIPT_MANIFEST_PATH})`
      : 'Script: not served (build it with `npm run build`, or it was turned off)',
    'Health: /healthz',
    'Metrics: /metrics',
    '',
  ].join('\n')

export const createHttpHandler = (options: HttpRoutesOptions) => {
  const { metrics, health, logger, publicFiles } = options
  const scriptRoutes =
    options.scriptBundle === undefined
      ? undefined
      : createScriptRoutes(options.scriptBundle, logger)
  const home = homePage(scriptRoutes !== undefined)

  const failed = (response: ServerResponse, error: unknown) => {
    logger.error({ err: error }, 'HTTP request failed')
    if (!response.headersSent) sendApi(response, 500, JSON.stringify({ error: 'internal' }))
    else response.destroy()
  }

  return (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/'
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendApi(response, 405, JSON.stringify({ error: 'method not allowed' }), undefined, {
        Allow: 'GET, HEAD',
      })
      return
    }
    if (path === '/healthz') {
      health
        .storageHealthy()
        .catch(() => false)
        .then((storage) => {
          // Storage trouble does not make this instance unfit to serve: editing continues and
          // clients see "unsaved". Report it; keep answering 200. Likewise a Redis outage: the
          // instance serves its own clients and heals when Redis returns.
          const redis = health.redis?.()
          const body = {
            status: storage && redis !== 'down' ? 'ok' : 'degraded',
            storage: storage ? 'ok' : 'failing',
            ...(redis === undefined ? {} : { redis }),
            rooms: health.rooms(),
            connections: health.connections(),
          }
          sendApi(response, 200, JSON.stringify(body))
        })
        .catch((error: unknown) => failed(response, error))
      return
    }
    if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => sendApi(response, 200, text, metrics.registry.contentType))
        .catch((error: unknown) => failed(response, error))
      return
    }
    if (scriptRoutes?.handle(request, response, path) === true) return
    if (isWebSocketPath(path)) return sendNotFound(response)
    if (publicFiles === undefined) {
      if (path === '/') sendApi(response, 200, home, 'text/plain; charset=utf-8')
      else sendNotFound(response)
      return
    }
    publicFiles
      .serve(request, response, path)
      .then((served) => {
        if (!served) sendNotFound(response)
      })
      .catch((error: unknown) => failed(response, error))
  }
}

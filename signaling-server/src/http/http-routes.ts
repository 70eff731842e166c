/**
 * Plain HTTP: `/healthz`, `/metrics`, and a JSON 404 for anything else. Every response carries
 * `Cache-Control: no-store` so that no CDN or browser cache ever serves a stale API answer (R33).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Metrics } from '../metrics.js'

export interface HealthSource {
  storageHealthy(): Promise<boolean>
  rooms(): number
  connections(): number
}

const send = (
  response: ServerResponse,
  status: number,
  body: string,
  contentType = 'application/json; charset=utf-8',
) => {
  response.writeHead(status, {
    'Content-Type': contentType,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  })
  response.end(body)
}

export const createHttpHandler =
  (deps: { metrics: Metrics; health: HealthSource }) =>
  (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?', 1)[0]
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, JSON.stringify({ error: 'method not allowed' }))
      return
    }
    if (path === '/healthz') {
      deps.health
        .storageHealthy()
        .catch(() => false)
        .then((storage) => {
          // Storage trouble does not make this instance unfit to serve: editing continues and
          // clients see "unsaved". Report it; keep answering 200.
          const body = {
            status: storage ? 'ok' : 'degraded',
            storage: storage ? 'ok' : 'failing',
            rooms: deps.health.rooms(),
            connections: deps.health.connections(),
          }
          send(response, 200, JSON.stringify(body))
        })
        .catch((error: unknown) => send(response, 500, JSON.stringify({ error: String(error) })))
      return
    }
    if (path === '/metrics') {
      deps.metrics.registry
        .metrics()
        .then((text) => send(response, 200, text, deps.metrics.registry.contentType))
        .catch((error: unknown) => send(response, 500, JSON.stringify({ error: String(error) })))
      return
    }
    send(response, 404, JSON.stringify({ error: 'not found' }))
  }

/**
 * Small pieces every HTTP route shares: API answers (never cached) and conditional GETs. Routes
 * decide their own cache policy; this module only keeps the two kinds from being mixed up.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * An API answer (health, metrics, errors, 404s): `Cache-Control: no-store`, so that no CDN or
 * browser cache ever serves a stale one (R33) — a cached 404 for a file that exists a second
 * later would outlive a rebuild.
 */
export const sendApi = (
  response: ServerResponse,
  status: number,
  body: string,
  contentType = JSON_TYPE,
  headers: Readonly<Record<string, string>> = {},
): void => {
  response.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  })
  response.end(body)
}

export const sendNotFound = (response: ServerResponse): void =>
  sendApi(response, 404, JSON.stringify({ error: 'not found' }))

/** Strips the weakness marker: `If-None-Match` uses the weak comparison (RFC 9110 §13.1.2). */
const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag)

/** Whether the client's cached copy (`If-None-Match`) is the representation tagged `etag`. */
export const isNotModified = (request: IncomingMessage, etag: string): boolean => {
  const header = request.headers['if-none-match']
  if (header === undefined) return false
  if (header.trim() === '*') return true
  const wanted = opaque(etag)
  return header.split(',').some((tag) => opaque(tag.trim()) === wanted)
}

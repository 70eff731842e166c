/**
 * Reads what a WebSocket upgrade request asks for — endpoint, room, token, Coedit extension
 * version — and checks its Origin. Pure functions of the request; no side effects, no logging
 * (the URL may carry a token).
 */
import type { IncomingMessage } from 'node:http'
import {
  COEDIT_QUERY_PARAM,
  MAX_TOPIC_LENGTH,
  RELAY_PATH,
  SIGNAL_PATH,
  SUBPROTOCOL,
  TOKEN_QUERY_PARAM,
  TOKEN_SUBPROTOCOL_PREFIX,
} from '@coedit/sdk/protocol'

export type UpgradeTarget =
  | { readonly endpoint: 'signal'; readonly token: string | undefined }
  | {
      readonly endpoint: 'relay'
      readonly room: string
      readonly token: string | undefined
      /** Declared Coedit extension major version, or undefined for stock clients. */
      readonly coedit: number | undefined
    }

export type UpgradeParse = { ok: true; target: UpgradeTarget } | { ok: false; status: 400 | 404 }

const offeredProtocols = (request: IncomingMessage): string[] =>
  (request.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol.length > 0)

const tokenOf = (request: IncomingMessage, query: URLSearchParams): string | undefined => {
  const fromProtocol = offeredProtocols(request).find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX))
  if (fromProtocol !== undefined) return fromProtocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length)
  return query.get(TOKEN_QUERY_PARAM) ?? undefined
}

export const parseUpgradeRequest = (request: IncomingMessage): UpgradeParse => {
  let url: URL
  try {
    url = new URL(request.url ?? '/', 'http://coedit.invalid')
  } catch {
    return { ok: false, status: 400 }
  }
  const token = tokenOf(request, url.searchParams)
  if (url.pathname === SIGNAL_PATH || url.pathname === `${SIGNAL_PATH}/`) {
    return { ok: true, target: { endpoint: 'signal', token } }
  }
  if (!url.pathname.startsWith(`${RELAY_PATH}/`)) return { ok: false, status: 404 }
  let room: string
  try {
    // Stock y-websocket appends the room unencoded; browsers percent-encode what they must.
    room = decodeURIComponent(url.pathname.slice(RELAY_PATH.length + 1))
  } catch {
    return { ok: false, status: 400 }
  }
  if (room.length === 0 || room.length > MAX_TOPIC_LENGTH) return { ok: false, status: 400 }
  const declared = url.searchParams.get(COEDIT_QUERY_PARAM)
  let coedit: number | undefined
  if (declared !== null) {
    coedit = Number(declared)
    if (!Number.isSafeInteger(coedit) || coedit < 0) return { ok: false, status: 400 }
  }
  return { ok: true, target: { endpoint: 'relay', room, token, coedit } }
}

/** The subprotocol the server selects: ours if offered (never a token-bearing one). */
export const selectProtocol = (protocols: Set<string>): string | false =>
  protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false

const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d+)?$/

/**
 * A browser extension's own pages (the Coedit extension's offscreen document or background).
 * They are code the user installed, not a site the user happened to visit — the Origin check
 * protects users from sites — so they pass by default; an allowlist can name them one by one or
 * per browser (`chrome-extension://*`). Tokens are checked as for anyone else.
 */
const EXTENSION_ORIGIN = /^(chrome-extension|moz-extension|safari-web-extension):\/\/[A-Za-z0-9-]+$/

/** `origin` matches an allowlist entry: exact, `*`, or `<extension scheme>://*`. */
const matchesEntry = (origin: string, entry: string): boolean =>
  entry === '*' ||
  entry === origin ||
  (entry.endsWith('://*') && EXTENSION_ORIGIN.test(origin) && origin.startsWith(entry.slice(0, -1)))

/**
 * Origin policy (R33). No Origin header: not a browser, allowed (auth still applies). With an
 * allowlist: exact match, `*`, or an extension scheme's `://*`. Without one: same origin as the
 * Host header, loopback, or a browser extension's pages.
 */
export const isOriginAllowed = (
  request: IncomingMessage,
  allowedOrigins: readonly string[] | undefined,
): boolean => {
  const origin = request.headers.origin
  if (origin === undefined) return true
  if (allowedOrigins !== undefined && allowedOrigins.length > 0) {
    return allowedOrigins.some((entry) => matchesEntry(origin, entry))
  }
  if (LOOPBACK_ORIGIN.test(origin) || EXTENSION_ORIGIN.test(origin)) return true
  const host = request.headers.host
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`)
}

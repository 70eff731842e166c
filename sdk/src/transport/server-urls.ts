/**
 * Derives the relay and signaling WebSocket URLs from the Coedit server's base URL, so an
 * application configures one address (`http://localhost:8787`, `https://coedit.example.com/base`).
 */
import { RELAY_PATH, SIGNAL_PATH } from '../protocol/message-types.js'
import { CoeditError } from '../protocol/errors.js'

export interface ServerUrls {
  /** `ws(s)://host[/base]/relay/<room>` without a query string. */
  readonly relay: string
  /** `ws(s)://host[/base]/signal` without a query string. */
  readonly signal: string
  /** The server's origin, used to name the offline copy per server. */
  readonly origin: string
}

const WS_SCHEME: Record<string, string> = {
  'http:': 'ws:',
  'https:': 'wss:',
  'ws:': 'ws:',
  'wss:': 'wss:',
}

/** Throws (misuse) when `server` is not an absolute http(s) or ws(s) URL. */
export const serverUrls = (server: string, room: string): ServerUrls => {
  let url: URL
  try {
    url = new URL(server)
  } catch {
    throw new CoeditError(
      'misuse',
      `server must be an absolute URL like "http://localhost:8787" (got "${server}")`,
    )
  }
  const scheme = WS_SCHEME[url.protocol]
  if (scheme === undefined) {
    throw new CoeditError(
      'misuse',
      `server must use http, https, ws or wss (got "${url.protocol}")`,
    )
  }
  const base = `${scheme}//${url.host}${url.pathname.replace(/\/+$/, '')}`
  return {
    relay: `${base}${RELAY_PATH}/${encodeURIComponent(room)}`,
    signal: `${base}${SIGNAL_PATH}`,
    origin: `${url.protocol}//${url.host}`,
  }
}

/**
 * The address a connection is counted under for per-IP limits. Behind a reverse proxy every
 * socket comes from the proxy, so all clients would share one allowance; when the socket's peer
 * is a proxy the operator named (`trustProxy`), the client is the address that proxy appended to
 * `X-Forwarded-For` (its last entry). Anyone else's `X-Forwarded-For` is ignored: a client could
 * otherwise pick a fresh address for every connection and escape the limit.
 */
import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, as Node reports IPv4 peers on dual-stack sockets) → IPv4. */
const plain = (address: string): string =>
  address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address

/** The client's address for `request`. */
export const clientAddress = (
  request: IncomingMessage,
  trustProxy: ReadonlySet<string> | undefined,
): string => {
  const peer = plain(request.socket.remoteAddress ?? 'unknown')
  if (trustProxy === undefined || !trustProxy.has(peer)) return peer
  const header = request.headers['x-forwarded-for']
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')
  const last = plain(forwarded[forwarded.length - 1]?.trim() ?? '')
  return isIP(last) === 0 ? peer : last
}

/** Normalises the configured proxy addresses (as `clientAddress` compares them). */
export const trustedProxies = (
  addresses: readonly string[] | undefined,
): Set<string> | undefined =>
  addresses === undefined || addresses.length === 0
    ? undefined
    : new Set(addresses.map((address) => plain(address.trim())))

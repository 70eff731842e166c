/**
 * The address per-IP limits count a connection under: the socket's peer, or — only when that
 * peer is a trusted proxy — the last X-Forwarded-For entry.
 */
import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { clientAddress, trustedProxies } from '../src/http/client-address.js'

const request = (peer: string, forwarded?: string | string[]) =>
  ({
    socket: { remoteAddress: peer },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  }) as unknown as IncomingMessage

describe('clientAddress', () => {
  const proxies = trustedProxies(['10.0.0.5', '::ffff:10.0.0.6'])

  it('uses the peer when no proxy is trusted or the peer is not one', () => {
    expect(clientAddress(request('192.0.2.1', '198.51.100.7'), undefined)).toBe('192.0.2.1')
    expect(clientAddress(request('192.0.2.1', '198.51.100.7'), proxies)).toBe('192.0.2.1')
  })

  it('takes the last X-Forwarded-For entry from a trusted proxy (what the proxy saw)', () => {
    expect(clientAddress(request('10.0.0.5', '1.2.3.4, 198.51.100.7'), proxies)).toBe(
      '198.51.100.7',
    )
    expect(clientAddress(request('::ffff:10.0.0.5', ['1.2.3.4', '2001:db8::1']), proxies)).toBe(
      '2001:db8::1',
    )
    expect(clientAddress(request('10.0.0.6', '::ffff:198.51.100.8'), proxies)).toBe('198.51.100.8')
  })

  it('falls back to the peer when the header is missing or not an address', () => {
    expect(clientAddress(request('10.0.0.5'), proxies)).toBe('10.0.0.5')
    expect(clientAddress(request('10.0.0.5', 'evil, not-an-ip'), proxies)).toBe('10.0.0.5')
  })
})

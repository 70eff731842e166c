/**
 * Misuse throws at once, before anything connects, as a `CoeditError` with code `misuse` and a
 * message naming the fix (style.md: errors of the first kind).
 */
import WebSocket from 'ws'
import { describe, expect, it } from 'vitest'
import { CoeditError, createSession, type SessionOptions } from '../../src/index.js'
import type { WebSocketConstructor } from '../../src/index.js'

const base: SessionOptions = {
  server: 'http://127.0.0.1:9',
  room: 'r',
  webrtc: false,
  offline: false,
  WebSocket: WebSocket as unknown as WebSocketConstructor,
}

const misuse = (options: SessionOptions): CoeditError => {
  try {
    const session = createSession(options)
    void session.destroy()
  } catch (error) {
    expect(error).toBeInstanceOf(CoeditError)
    expect((error as CoeditError).code).toBe('misuse')
    return error as CoeditError
  }
  throw new Error('expected createSession to throw')
}

describe('createSession misuse', () => {
  it.each([
    ['an empty room', { room: '' }, /room/],
    ['a colour that is not one', { user: { name: 'Ada', color: 'blue' } }, /color/],
    ['a server URL of another scheme', { server: 'ftp://example.com' }, /http, https, ws or wss/],
    ['a relative server URL', { server: '/coedit' }, /server/],
    ['WebRTC in Node', { webrtc: true }, /webrtc: false/],
    ['an offline copy without IndexedDB', { offline: true }, /offline: false/],
    [
      'a backoff cap below its start',
      { reconnect: { initialDelayMs: 500, maxDelayMs: 10 } },
      /initialDelayMs/,
    ],
  ] as const)('throws CoeditError misuse for %s', (_name, override, message) => {
    expect(misuse({ ...base, ...override } as SessionOptions).message).toMatch(message)
  })
})

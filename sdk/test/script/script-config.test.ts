/**
 * The script tag's attributes → `StartOptions`: which room, which server, which switches, and a
 * `CoeditError` naming the attribute for every mistake a page author can make.
 */
import { describe, expect, it } from 'vitest'
import { CoeditError } from '../../src/protocol/errors.js'
import { readScriptConfig, type LocationLike } from '../../src/script/script-config.js'

const SRC = 'https://coedit.example:8443/static/coedit.js'

/** A script element with `attributes` (data-* names), loaded from `src`. */
const tag = (attributes: Record<string, string>, src = SRC) => ({
  src,
  getAttribute: (name: string) => attributes[name] ?? null,
})

const page = (search = ''): LocationLike => ({
  href: `https://site.example/notes${search}`,
  search,
})

const read = (attributes: Record<string, string>, search = '', scope: object = {}) =>
  readScriptConfig(tag(attributes), page(search), scope)

/** The CoeditError `run` throws; fails the test if it throws nothing or something else. */
const misuse = (run: () => unknown): CoeditError => {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(CoeditError)
    expect((error as CoeditError).code).toBe('misuse')
    return error as CoeditError
  }
  throw new Error('expected a CoeditError')
}

describe('readScriptConfig', () => {
  it('does not start without data-room or data-room-param', () => {
    expect(read({})).toBeUndefined()
    expect(read({ 'data-user-name': 'Ada' })).toBeUndefined()
  })

  it('takes the room from data-room and the server from the origin the script came from', () => {
    expect(read({ 'data-room': 'team-notes' })).toEqual({
      server: 'https://coedit.example:8443',
      room: 'team-notes',
    })
  })

  it('prefers the URL parameter named by data-room-param over data-room', () => {
    const attributes = { 'data-room': 'fallback', 'data-room-param': 'room' }
    expect(read(attributes, '?room=from-url&x=1')?.room).toBe('from-url')
    expect(read(attributes, '?x=1')?.room).toBe('fallback')
    expect(read(attributes, '?room=')?.room).toBe('fallback')
    expect(read({ 'data-room-param': 'doc' }, '?doc=a%20b')?.room).toBe('a b')
  })

  it('does not start when data-room-param names a parameter the URL lacks and no data-room', () => {
    expect(read({ 'data-room-param': 'room' }, '?other=1')).toBeUndefined()
  })

  it('throws naming data-room when it is empty', () => {
    expect(misuse(() => read({ 'data-room': '' })).message).toMatch(/data-room\b/)
    expect(misuse(() => read({ 'data-room': '  ' })).message).toMatch(/data-room\b/)
  })

  it('throws naming data-room-param when it is empty, and rooms over 512 characters', () => {
    expect(misuse(() => read({ 'data-room-param': '' })).message).toContain('data-room-param')
    const long = 'r'.repeat(513)
    expect(misuse(() => read({ 'data-room': long })).message).toContain('data-room')
    expect(misuse(() => read({ 'data-room-param': 'room' }, `?room=${long}`)).message).toContain(
      'URL parameter "room"',
    )
  })

  it('uses data-server when given and checks it is an absolute http(s) or ws(s) URL', () => {
    expect(read({ 'data-room': 'r', 'data-server': 'http://127.0.0.1:8787' })?.server).toBe(
      'http://127.0.0.1:8787',
    )
    expect(misuse(() => read({ 'data-room': 'r', 'data-server': '/relative' })).message).toContain(
      'data-server',
    )
    expect(
      misuse(() => read({ 'data-room': 'r', 'data-server': 'ftp://x.example' })).message,
    ).toContain('data-server')
  })

  it('needs data-server on an inline script (no src to default to)', () => {
    const error = misuse(() => readScriptConfig(tag({ 'data-room': 'r' }, ''), page(), {}))
    expect(error.message).toContain('data-server')
  })

  it('passes the off switches through as false and ignores "on"', () => {
    expect(
      read({
        'data-room': 'r',
        'data-webrtc': 'off',
        'data-offline': 'OFF',
        'data-badge': 'false',
      }),
    ).toEqual({
      server: 'https://coedit.example:8443',
      room: 'r',
      webrtc: false,
      offline: false,
      badge: false,
    })
    expect(read({ 'data-room': 'r', 'data-relay': 'off' })?.relay).toBe(false)
    expect(read({ 'data-room': 'r', 'data-webrtc': 'on', 'data-badge': '' })).toEqual({
      server: 'https://coedit.example:8443',
      room: 'r',
    })
  })

  it('throws naming the attribute for a switch value other than on/off', () => {
    expect(misuse(() => read({ 'data-room': 'r', 'data-offline': 'nope' })).message).toContain(
      'data-offline="nope"',
    )
  })

  it('throws when both data-webrtc and data-relay are off', () => {
    const error = misuse(() =>
      read({ 'data-room': 'r', 'data-webrtc': 'off', 'data-relay': 'off' }),
    )
    expect(error.message).toContain('data-webrtc')
    expect(error.message).toContain('data-relay')
  })

  it('reads the user name and colour, each optional', () => {
    expect(
      read({ 'data-room': 'r', 'data-user-name': ' Ada ', 'data-user-color': '#E91E63' })?.user,
    ).toEqual({ name: 'Ada', color: '#E91E63' })
    expect(read({ 'data-room': 'r', 'data-user-name': 'Ada' })?.user).toEqual({ name: 'Ada' })
    expect(read({ 'data-room': 'r', 'data-user-color': '#abc' })?.user).toEqual({ color: '#abc' })
  })

  it('throws naming data-user-color for a colour that is not #rgb/#rrggbb/#rrggbbaa', () => {
    for (const color of ['red', '#12345', 'url(x)', '#e91e63;background:url(x)']) {
      const error = misuse(() => read({ 'data-room': 'r', 'data-user-color': color }))
      expect(error.message).toContain('data-user-color')
    }
  })

  it('throws naming data-user-name when it is empty', () => {
    expect(misuse(() => read({ 'data-room': 'r', 'data-user-name': ' ' })).message).toContain(
      'data-user-name',
    )
  })

  it('builds getToken from data-token-url, resolved against the page', () => {
    const options = read({ 'data-room': 'r', 'data-token-url': '/coedit-token' })
    expect(options?.getToken).toBeTypeOf('function')
    expect(
      misuse(() => read({ 'data-room': 'r', 'data-token-url': 'javascript:alert(1)' })).message,
    ).toContain('data-token-url')
  })

  it('builds getToken from data-get-token, calling the global at connection time', async () => {
    const scope: Record<string, unknown> = {}
    const options = read({ 'data-room': 'r', 'data-get-token': 'app.token' }, '', scope)
    // Defined after the tag was read, as a page's later script would.
    scope['app'] = {
      prefix: 'jwt',
      token: function (this: { prefix: string }) {
        return Promise.resolve(`${this.prefix}.a.b`)
      },
    }
    await expect(options?.getToken?.()).resolves.toBe('jwt.a.b')
  })

  it('throws naming data-get-token for a name that is not a global path, or with both token attributes', () => {
    expect(
      misuse(() => read({ 'data-room': 'r', 'data-get-token': 'alert(1)' })).message,
    ).toContain('data-get-token')
    const both = misuse(() =>
      read({ 'data-room': 'r', 'data-get-token': 'f', 'data-token-url': '/t' }),
    )
    expect(both.message).toContain('data-token-url and data-get-token')
  })
})

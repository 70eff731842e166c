/**
 * `data-token-url` and `data-get-token` token sources: what is requested, how the body is read,
 * and that failures name the attribute without echoing the response.
 */
import { describe, expect, it } from 'vitest'
import { CoeditError } from '../../src/protocol/errors.js'
import { readTokenBody, tokenFromGlobal, tokenFromUrl } from '../../src/script/token-from-page.js'

const SECRET = 'eyJhbGciOi.secret-looking.body'

/** A fetch that answers `body` and records what it was asked. */
const fakeFetch = (body: string, init: ResponseInit = {}) => {
  const calls: { url: string; init: RequestInit }[] = []
  const fetch = (url: string, requestInit: RequestInit) => {
    calls.push({ url, init: requestInit })
    return Promise.resolve(new Response(body, init))
  }
  return { fetch, calls }
}

describe('tokenFromUrl', () => {
  it('fetches with the page cookies, uncached, on every call', async () => {
    const { fetch, calls } = fakeFetch(JSON.stringify({ token: 'a.b.c' }), {
      headers: { 'content-type': 'application/json' },
    })
    const getToken = tokenFromUrl('https://site.example/coedit-token', fetch)
    await expect(getToken()).resolves.toBe('a.b.c')
    await expect(getToken()).resolves.toBe('a.b.c')
    expect(calls).toHaveLength(2)
    expect(calls[0]?.url).toBe('https://site.example/coedit-token')
    expect(calls[0]?.init).toMatchObject({ credentials: 'include', cache: 'no-store' })
  })

  it('accepts a plain-text body', async () => {
    const { fetch } = fakeFetch('  x.y.z\n', { headers: { 'content-type': 'text/plain' } })
    await expect(tokenFromUrl('/t', fetch)()).resolves.toBe('x.y.z')
  })

  it('rejects a non-2xx answer naming data-token-url and the status, not the body', async () => {
    const { fetch } = fakeFetch(SECRET, { status: 403 })
    const failure = tokenFromUrl('/t', fetch)()
    await expect(failure).rejects.toBeInstanceOf(CoeditError)
    await expect(failure).rejects.toThrow(/data-token-url.*403/)
    await failure.catch((error: Error) => expect(error.message).not.toContain(SECRET))
  })
})

describe('readTokenBody', () => {
  it('reads { token } from JSON, by content type or by shape', () => {
    expect(readTokenBody('{"token":"a.b.c"}', null)).toBe('a.b.c')
    expect(readTokenBody('"a.b.c"', 'application/json; charset=utf-8')).toBe('a.b.c')
  })

  it('throws without echoing the body when the JSON has no string token', () => {
    for (const body of [`{"jwt":"${SECRET}"}`, `{"token":${JSON.stringify([SECRET])}}`]) {
      let message = ''
      try {
        readTokenBody(body, 'application/json')
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toContain('"token"')
      expect(message).not.toContain(SECRET)
    }
    expect(() => readTokenBody('{not json', null)).toThrow(/not valid JSON/)
  })
})

describe('tokenFromGlobal', () => {
  it('looks the function up when called, so the page may define it later', async () => {
    const scope: Record<string, unknown> = {}
    const getToken = tokenFromGlobal('getCoeditToken', scope)
    expect(() => getToken()).toThrow(/window\.getCoeditToken is not a function/)
    scope['getCoeditToken'] = () => 'a.b.c'
    await expect(Promise.resolve(getToken())).resolves.toBe('a.b.c')
  })

  it('refuses names that are not plain global paths', () => {
    for (const name of ['a()', 'a[0]', '', '1a', 'a..b']) {
      expect(() => tokenFromGlobal(name, {})).toThrow(/data-get-token/)
    }
  })
})

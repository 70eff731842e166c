/** The options' token URL as `getToken`: request shape and response bodies. */
import { describe, expect, it } from 'vitest'
import { readTokenBody, tokenFromUrl, tokenRequestUrl } from '../../src/host/token-url.js'

describe('token URL', () => {
  it('adds the room and sends the user’s cookies', async () => {
    const calls: { url: string; init: RequestInit }[] = []
    const getToken = tokenFromUrl(
      'https://auth.example/token?app=1',
      'room-1',
      async (url, init) => {
        calls.push({ url, init })
        return new Response('{"token":"a.b.c"}', {
          headers: { 'content-type': 'application/json' },
        })
      },
    )
    expect(await getToken()).toBe('a.b.c')
    expect(calls).toEqual([
      {
        url: 'https://auth.example/token?app=1&room=room-1',
        init: expect.objectContaining({ credentials: 'include', cache: 'no-store' }),
      },
    ])
  })

  it('reads plain text and JSON bodies and refuses others', () => {
    expect(readTokenBody(' a.b.c \n', 'text/plain')).toBe('a.b.c')
    expect(readTokenBody('{"token":"x.y.z"}', null)).toBe('x.y.z')
    expect(() => readTokenBody('{"jwt":"x"}', 'application/json')).toThrow(/"token"/)
    expect(() => readTokenBody('{nope', 'application/json')).toThrow(/not valid JSON/)
    expect(tokenRequestUrl('http://a.example/t', 'r')).toBe('http://a.example/t?room=r')
  })

  it('fails with the status when the endpoint refuses', async () => {
    const getToken = tokenFromUrl(
      'https://auth.example/token',
      'r',
      async () => new Response('secret detail', { status: 401 }),
    )
    await expect(getToken()).rejects.toThrow(/HTTP 401/)
    await expect(getToken()).rejects.not.toThrow(/secret detail/)
  })
})

/**
 * The options' token URL as the SDK's `getToken`: for every connection attempt, GET the URL with
 * the user's cookies (the site that issues tokens knows them by their session there) and the room
 * as the `room` query parameter (Coedit tokens are scoped to one room), and read the token from
 * the body, plain text or JSON `{ "token": "…" }`. The token is returned, never kept or logged.
 */
import { CoeditError } from '@coedit/sdk'

type Fetch = (input: string, init: RequestInit) => Promise<Response>

/** The token in a response body; never echoes the body (it may be a secret). */
export const readTokenBody = (body: string, contentType: string | null): string => {
  const text = body.trim()
  const json = (contentType ?? '').toLowerCase().includes('json') || text.startsWith('{')
  if (!json) return text
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new CoeditError('token-failed', 'token URL: the response is not valid JSON')
  }
  const token =
    typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)['token']
      : parsed
  if (typeof token !== 'string') {
    throw new CoeditError('token-failed', 'token URL: the JSON response needs a string "token"')
  }
  return token.trim()
}

/** The URL fetched for `room`: the configured one with `room=<room>` added. */
export const tokenRequestUrl = (tokenUrl: string, room: string): string => {
  const url = new URL(tokenUrl)
  url.searchParams.set('room', room)
  return url.href
}

export const tokenFromUrl =
  (tokenUrl: string, room: string, fetchImpl?: Fetch): (() => Promise<string>) =>
  async () => {
    const request = fetchImpl ?? ((input, init) => globalThis.fetch(input, init))
    const url = tokenRequestUrl(tokenUrl, room)
    const response = await request(url, {
      credentials: 'include',
      cache: 'no-store',
      headers: { Accept: 'application/json, text/plain' },
    })
    if (!response.ok) {
      throw new CoeditError(
        'token-failed',
        `token URL ${new URL(tokenUrl).origin} answered HTTP ${response.status}; it must answer 200 with a token`,
      )
    }
    return readTokenBody(await response.text(), response.headers.get('content-type'))
  }

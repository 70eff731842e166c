/**
 * A token endpoint as `getToken`: the script tag's `data-token-url` and the extension's token URL
 * both GET a URL with the user's cookies (the site that issues tokens knows users by their session
 * there), never cached, and read the token from the body — plain text or JSON `{ "token": "…" }`.
 * The token is returned, never kept, and never echoed in an error (the body may be a secret).
 */
import { CoeditError } from '../protocol/errors.js'

export type Fetch = (input: string, init: RequestInit) => Promise<Response>

/**
 * The token in an endpoint's response body. `source` names the setting in error messages
 * (e.g. `data-token-url`) so the message says what to fix.
 */
export const readTokenBody = (
  body: string,
  contentType: string | null,
  source = 'token URL',
): string => {
  const text = body.trim()
  const json = (contentType ?? '').toLowerCase().includes('json') || text.startsWith('{')
  if (!json) return text
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new CoeditError('token-failed', `${source}: the response is not valid JSON`)
  }
  if (typeof parsed === 'string') return parsed.trim()
  const token =
    typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)['token']
      : undefined
  if (typeof token !== 'string') {
    throw new CoeditError(
      'token-failed',
      `${source}: the JSON response needs a string "token" field`,
    )
  }
  return token.trim()
}

/** The URL without its query and fragment (which may carry secrets), for messages. */
const withoutQuery = (url: string): string => url.split(/[?#]/, 1)[0] ?? ''

/**
 * GETs `url` (credentials included, no cache) and reads the token. A non-2xx answer rejects with
 * `token-failed`, naming `source` and the endpoint's origin and path (not its query).
 * `fetchImpl` defaults to the global `fetch`, read at call time.
 */
export const fetchToken = async (
  url: string,
  source: string,
  fetchImpl?: Fetch,
): Promise<string> => {
  const request = fetchImpl ?? ((input, init) => globalThis.fetch(input, init))
  const response = await request(url, {
    credentials: 'include',
    cache: 'no-store',
    headers: { Accept: 'application/json, text/plain' },
  })
  if (!response.ok) {
    throw new CoeditError(
      'token-failed',
      `${source}: ${withoutQuery(url)} answered HTTP ${response.status}; it must answer 200 with a token`,
    )
  }
  return readTokenBody(await response.text(), response.headers.get('content-type'), source)
}

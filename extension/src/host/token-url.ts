/**
 * The options' token URL as the SDK's `getToken`: for every connection attempt, GET the URL with
 * the user's cookies (the site that issues tokens knows them by their session there) and the room
 * as the `room` query parameter (Coedit tokens are scoped to one room), and read the token from
 * the body, plain text or JSON `{ "token": "…" }`. The token is returned, never kept or logged.
 */
import { fetchToken, readTokenBody as readBody, type Fetch } from '@coedit/sdk'

/** The token in a response body; never echoes the body (it may be a secret). */
export const readTokenBody = (body: string, contentType: string | null): string =>
  readBody(body, contentType, 'token URL')

/** The URL fetched for `room`: the configured one with `room=<room>` added. */
export const tokenRequestUrl = (tokenUrl: string, room: string): string => {
  const url = new URL(tokenUrl)
  url.searchParams.set('room', room)
  return url.href
}

export const tokenFromUrl =
  (tokenUrl: string, room: string, fetchImpl?: Fetch): (() => Promise<string>) =>
  () =>
    fetchToken(tokenRequestUrl(tokenUrl, room), 'token URL', fetchImpl)

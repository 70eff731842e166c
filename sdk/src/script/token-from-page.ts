/**
 * Token sources for the script tag: `data-token-url` (the page's own endpoint, called with the
 * user's cookies) and `data-get-token` (a global function of the page). Both are read again for
 * every connection attempt and the token is only returned, never kept: not in a variable, not in
 * page storage, not in an error message (requirements R28). Errors name the attribute to fix.
 */
import { fetchToken, readTokenBody as readBody, type Fetch } from '../auth/token-endpoint.js'
import type { GetToken } from '../auth/token-source.js'
import { CoeditError } from '../protocol/errors.js'

/** A global's name, optionally dotted (`myApp.auth.getToken`); no brackets, no calls. */
const GLOBAL_PATH = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/

/**
 * `data-token-url`: GETs `url` with credentials and no caching and reads the token from the body,
 * JSON `{ "token": "…" }` or plain text (auth/token-endpoint.ts). `fetchImpl` defaults to the
 * global `fetch`, read at call time.
 */
export const tokenFromUrl =
  (url: string, fetchImpl?: Fetch): (() => Promise<string>) =>
  () =>
    fetchToken(url, 'data-token-url', fetchImpl)

/** The token in a token endpoint's response body. Never echoes the body (it may be a secret). */
export const readTokenBody = (body: string, contentType: string | null): string =>
  readBody(body, contentType, 'data-token-url')

/** Throws (misuse, at configuration time) unless `name` can name a global function. */
export const assertGlobalPath = (name: string): void => {
  if (!GLOBAL_PATH.test(name)) {
    throw new CoeditError(
      'misuse',
      `coedit.js: data-get-token="${name}" must name a global function, like "getCoeditToken" or ` +
        '"myApp.getToken"',
    )
  }
}

/**
 * `data-get-token`: calls the global function `name` (looked up on `scope` at call time, so the
 * page may define it after the script tag) and returns what it returns or resolves to.
 */
export const tokenFromGlobal = (name: string, scope: object): GetToken => {
  assertGlobalPath(name)
  const path = name.split('.')
  return () => {
    let owner: unknown
    let value: unknown = scope
    for (const key of path) {
      owner = value
      value =
        typeof value === 'object' || typeof value === 'function'
          ? (value as Record<string, unknown> | null)?.[key]
          : undefined
    }
    if (typeof value !== 'function') {
      throw new CoeditError(
        'token-failed',
        `data-get-token: window.${name} is not a function; define it before Coedit connects`,
      )
    }
    return Reflect.apply(value, owner, []) as string | Promise<string>
  }
}

/**
 * Wraps the application's `getToken()` callback. Tokens are short-lived (≤ 15 min), so the SDK
 * asks for a fresh one for every connection attempt and keeps it only for that attempt: never in
 * page storage, never in a long-lived field, never in a log line (requirements R28).
 */
import { CoeditError } from '../protocol/errors.js'

export type GetToken = () => string | Promise<string>

export interface TokenSource {
  /** A fresh token, or `undefined` when the server runs without auth (no `getToken`). */
  fetch(): Promise<string | undefined>
}

/** Characters a JWT (base64url segments and dots) may contain; anything else is misuse. */
const TOKEN_SHAPE = /^[A-Za-z0-9_\-.]+$/

export const createTokenSource = (getToken: GetToken | undefined): TokenSource => ({
  async fetch() {
    if (getToken === undefined) return undefined
    let token: unknown
    try {
      token = await getToken()
    } catch (error) {
      throw new CoeditError('token-failed', 'getToken() threw or rejected', { cause: error })
    }
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) {
      // Not echoing the value: it may be a secret in the wrong shape.
      throw new CoeditError('token-failed', 'getToken() must resolve to a JWT string')
    }
    return token
  },
})

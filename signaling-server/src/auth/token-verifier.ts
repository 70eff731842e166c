/**
 * Verification of Coedit room tokens (R28): short-lived JWTs signed with ES256 or EdDSA, checked
 * against a public key set (JWKS) whose keys are selected by `kid`, so keys can be rotated by
 * publishing the new key next to the old one and removing the old one later.
 *
 * This module owns the token rules (algorithms, audience, lifetime, room scope, permission) and
 * the loading of the key set. It never logs, and no error it produces carries the token: a token
 * is a bearer credential, and error messages end up in logs and close frames.
 */
import { readFileSync } from 'node:fs'
import { CoeditError } from '@coedit/sdk/protocol'
import { createLocalJWKSet, errors, jwtVerify } from 'jose'
import type { JWK, JWTPayload } from 'jose'

export type Permission = 'read' | 'write'

/** What a verified token allows. */
export interface TokenGrant {
  /** The room the token was verified for (the requested room). */
  room: string
  perm: Permission
  /** The token's subject (user id), when it has one. */
  sub?: string
  /** The token's id (`jti`), when it has one: lets a single token be revoked. */
  jti?: string
  /** Expiry, in seconds since the Unix epoch; the connection must not outlive it. */
  exp: number
}

export interface TokenVerifier {
  /**
   * Resolves with the grant if `token` is valid for `room`; otherwise rejects with an
   * {@link AuthError}. Never rejects with anything else, whatever the input.
   */
  verify(token: string, room: string): Promise<TokenGrant>
}

export type AuthErrorCode = 'unauthorized' | 'forbidden'

/**
 * A rejected token. `unauthorized`: missing, malformed, unverifiable, expired or too long-lived
 * (close with 4401). `forbidden`: a valid token for another room (close with 4403). The message
 * never contains the token.
 */
export class AuthError extends CoeditError {
  override readonly code: AuthErrorCode

  constructor(code: AuthErrorCode, message: string) {
    super(code, message)
    this.name = 'AuthError'
    this.code = code
  }
}

/** The `aud` claim every Coedit token carries, so tokens minted for other services are refused. */
export const TOKEN_AUDIENCE = 'coedit'

/** Signature algorithms accepted; everything else (HS*, RS*, `none`) is refused. */
export const TOKEN_ALGORITHMS = ['ES256', 'EdDSA'] as const

/** Default longest accepted token lifetime (`exp - iat`), in seconds: 15 minutes (R28). */
export const DEFAULT_MAX_TTL_SECONDS = 900

/** Default allowed clock difference between the token issuer and this server, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5

// Tokens are a few hundred bytes; anything far larger is garbage and not worth decoding.
const MAX_TOKEN_LENGTH = 8192

// JWK members that only private or symmetric keys have (RFC 7518 §6, `priv` for AKP keys).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const

export interface TokenVerifierOptions {
  /** Public keys (ES256: EC P-256, EdDSA: OKP Ed25519), each with a unique `kid`. */
  jwks: { keys: JWK[] }
  /** Longest accepted lifetime, in seconds. Default {@link DEFAULT_MAX_TTL_SECONDS} (900). */
  maxTtlSeconds?: number
  /** Clock skew tolerated on `exp`, in seconds. Default {@link DEFAULT_CLOCK_TOLERANCE_SECONDS}. */
  clockToleranceSeconds?: number
}

/**
 * Creates a verifier for a fixed key set. Throws at once (misuse) if the key set is empty, holds
 * private key material, holds keys that cannot verify ES256/EdDSA, or repeats a `kid`.
 * Tokens without a `kid` verify only when exactly one key fits their algorithm.
 */
export const createTokenVerifier = (options: TokenVerifierOptions): TokenVerifier => {
  const maxTtl = options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS
  if (!(Number.isFinite(maxTtl) && maxTtl > 0)) {
    throw new Error(`maxTtlSeconds must be a positive number of seconds, got ${maxTtl}`)
  }
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) {
    throw new Error(`clockToleranceSeconds must be 0 or more seconds, got ${tolerance}`)
  }
  assertPublicKeySet(options.jwks, 'the key set')
  const keySet = createLocalJWKSet({ keys: options.jwks.keys })

  const verify = async (token: string, room: string): Promise<TokenGrant> => {
    // Untrusted callers may pass anything at runtime (a missing query parameter, an array).
    if (typeof token !== 'string' || token.length === 0) {
      throw new AuthError('unauthorized', 'token missing')
    }
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new AuthError('unauthorized', 'token too long')
    }
    let payload: JWTPayload
    try {
      const result = await jwtVerify(token, keySet, {
        algorithms: [...TOKEN_ALGORITHMS],
        audience: TOKEN_AUDIENCE,
        requiredClaims: ['exp'],
        clockTolerance: tolerance,
      })
      payload = result.payload
    } catch (error) {
      throw new AuthError('unauthorized', `token rejected: ${describeJoseError(error)}`)
    }

    // jose has checked that `exp` is present, numeric and not past, and `iat` numeric if present.
    // Both bounds apply: `exp - iat` catches tokens minted long-lived, and the remaining time
    // catches tokens without `iat` or with an `iat` in the future that would stretch the lifetime.
    const exp = payload.exp as number
    const remaining = exp - Date.now() / 1000
    const minted = payload.iat === undefined ? 0 : exp - payload.iat
    if (minted > maxTtl || remaining > maxTtl + tolerance) {
      throw new AuthError('unauthorized', `token rejected: lifetime exceeds ${maxTtl} s`)
    }
    const { perm, sub, jti } = payload
    if (perm !== 'read' && perm !== 'write') {
      throw new AuthError('unauthorized', 'token rejected: "perm" claim must be "read" or "write"')
    }
    if (sub !== undefined && typeof sub !== 'string') {
      throw new AuthError('unauthorized', 'token rejected: "sub" claim must be a string')
    }
    if (jti !== undefined && typeof jti !== 'string') {
      throw new AuthError('unauthorized', 'token rejected: "jti" claim must be a string')
    }
    const rooms = roomsOf(payload)
    if (rooms === undefined) {
      throw new AuthError('unauthorized', 'token rejected: no "room" or "rooms" claim')
    }
    if (!rooms.includes(room)) {
      throw new AuthError('forbidden', 'token is not valid for this room')
    }
    const grant: TokenGrant = { room, perm, exp }
    if (sub !== undefined) grant.sub = sub
    if (jti !== undefined) grant.jti = jti
    return grant
  }

  return { verify }
}

/**
 * Reads a key set from a JSON file: a JWKS (`{"keys": [...]}`) or a single public JWK. Throws an
 * error naming the file if it cannot be read or parsed, or holds no usable public keys.
 */
export const loadKeySet = (path: string): { keys: JWK[] } => {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(`Cannot read key set file ${path}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new Error(`Key set file ${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    })
  }
  const keySet = isObject(parsed) && typeof parsed.kty === 'string' ? { keys: [parsed] } : parsed
  if (!isObject(keySet) || !Array.isArray(keySet.keys)) {
    throw new Error(
      `Key set file ${path} must hold a JWKS ({"keys": [...]}) or a single public JWK object`,
    )
  }
  const jwks = { keys: keySet.keys as JWK[] }
  assertPublicKeySet(jwks, `key set file ${path}`)
  return jwks
}

const assertPublicKeySet = (jwks: { keys: JWK[] }, where: string): void => {
  if (!isObject(jwks) || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    throw new Error(`${capitalize(where)} has no keys: give at least one public JWK`)
  }
  const kids = new Set<string>()
  jwks.keys.forEach((key: unknown, index) => {
    if (!isObject(key)) throw new Error(`Key ${index} in ${where} is not a JWK object`)
    const name = typeof key.kid === 'string' ? `Key "${key.kid}"` : `Key ${index}`
    const secret = PRIVATE_MEMBERS.find((member) => member in key)
    if (secret !== undefined) {
      throw new Error(
        `${name} in ${where} contains private key material ("${secret}"): the server needs ` +
          'only public keys; remove the private members or use the public JWKS from keygen',
      )
    }
    const fits =
      (key.kty === 'EC' && key.crv === 'P-256') || (key.kty === 'OKP' && key.crv === 'Ed25519')
    if (!fits) {
      throw new Error(
        `${name} in ${where} cannot verify ES256 or EdDSA tokens: use an EC P-256 or OKP ` +
          'Ed25519 public key',
      )
    }
    if (typeof key.kid === 'string') {
      if (kids.has(key.kid))
        throw new Error(`${name} appears twice in ${where}: kids must be unique`)
      kids.add(key.kid)
    }
  })
}

// A token is scoped to one room (`room`) or to a list of rooms (`rooms`).
const roomsOf = (payload: JWTPayload): string[] | undefined => {
  if (typeof payload.room === 'string') return [payload.room]
  const { rooms } = payload
  if (Array.isArray(rooms) && rooms.every((room) => typeof room === 'string')) return rooms
  return undefined
}

// Fixed texts only: jose's own messages may quote header values taken from the token.
const describeJoseError = (error: unknown): string => {
  if (error instanceof errors.JWTExpired) return 'token has expired'
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `"${error.claim}" claim ${error.reason.replace('_', ' ')}`
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify'
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key in the key set matches its kid'
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'no kid and several keys match'
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed (ES256, EdDSA)'
  if (error instanceof errors.JOSENotSupported) return 'unsupported algorithm or key'
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed'
  return 'cannot be verified'
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1)

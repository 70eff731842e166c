/**
 * Development helpers behind `coedit-server keygen` and `coedit-server token`: make a signing key
 * pair and mint room tokens the way an application backend would (R28).
 *
 * Production backends mint tokens with their own JWT library; this module exists so the server
 * can be tried and tested without one. It never writes keys or tokens anywhere: the CLI decides
 * where they go.
 */
import { randomBytes } from 'node:crypto'
import { SignJWT, exportJWK, generateKeyPair as generateJoseKeyPair, importJWK } from 'jose'
import type { JWK } from 'jose'
import { TOKEN_AUDIENCE } from './token-verifier.js'
import type { Permission } from './token-verifier.js'

export type SigningAlgorithm = 'EdDSA' | 'ES256'

/**
 * Generates a signing key pair. Both halves carry the same random `kid`, `alg` and `use: 'sig'`.
 * `privateJwk` stays with whoever mints tokens; `publicJwks` is the server's key set (to rotate,
 * add a new key's public JWK to it, switch minting to the new key, then drop the old one).
 * Default algorithm: EdDSA (Ed25519).
 */
export const generateKeyPair = async (
  alg: SigningAlgorithm = 'EdDSA',
): Promise<{ privateJwk: JWK; publicJwks: { keys: JWK[] } }> => {
  if (alg !== 'EdDSA' && alg !== 'ES256') {
    throw new Error(`Unsupported algorithm ${String(alg)}: use EdDSA or ES256`)
  }
  const { privateKey, publicKey } = await generateJoseKeyPair(alg, { extractable: true })
  const kid = randomBytes(12).toString('base64url')
  const meta = { kid, alg, use: 'sig' }
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), ...meta }
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), ...meta }
  return { privateJwk, publicJwks: { keys: [publicJwk] } }
}

export interface SignTokenOptions {
  /** A private JWK with a `kid` (as made by {@link generateKeyPair}). */
  privateJwk: JWK
  room: string
  perm: Permission
  /** Lifetime in seconds (> 0); the server refuses more than its max TTL (default 900). */
  ttlSeconds: number
  /** Subject (user id), if any. */
  sub?: string
  /** Token id (`jti`), if any: lets this one token be revoked. */
  jti?: string
}

/**
 * Signs a room token: header `alg` and `kid`; claims `aud: 'coedit'`, `iat`, `exp = iat + ttl`,
 * `room`, `perm` and optional `sub`. Throws (misuse) on a non-positive TTL, a missing room, an
 * unknown permission or a key that is not a private ES256/EdDSA key with a `kid`.
 */
export const signToken = async (options: SignTokenOptions): Promise<string> => {
  const { privateJwk, room, perm, ttlSeconds, sub, jti } = options
  if (!(Number.isFinite(ttlSeconds) && ttlSeconds > 0)) {
    throw new Error(`ttlSeconds must be a positive number of seconds, got ${ttlSeconds}`)
  }
  if (typeof room !== 'string' || room.length === 0) {
    throw new Error('room must be a non-empty string')
  }
  if (perm !== 'read' && perm !== 'write') {
    throw new Error(`perm must be "read" or "write", got ${String(perm)}`)
  }
  if (typeof privateJwk.d !== 'string') {
    throw new Error('privateJwk has no private part ("d"): pass the private JWK from keygen')
  }
  if (typeof privateJwk.kid !== 'string' || privateJwk.kid.length === 0) {
    throw new Error(
      'privateJwk has no "kid": the server selects keys by kid; add one or use keygen',
    )
  }
  const alg = algorithmOf(privateJwk)
  const key = await importJWK(privateJwk, alg)
  const iat = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({
    room,
    perm,
    ...(sub === undefined ? {} : { sub }),
    ...(jti === undefined ? {} : { jti }),
  })
    .setProtectedHeader({ alg, kid: privateJwk.kid, typ: 'JWT' })
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.ceil(ttlSeconds))
  return jwt.sign(key)
}

const DURATION = /^(\d+)([smh]?)$/
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 }

/**
 * Parses a duration into seconds: `90` or `90s` (seconds), `10m` (minutes), `1h` (hours).
 * Throws an error quoting the input otherwise.
 */
export const parseDuration = (text: string): number => {
  const match = DURATION.exec(text.trim())
  const seconds = match ? Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? 1) : NaN
  if (!Number.isSafeInteger(seconds)) {
    throw new Error(
      `Invalid duration "${text}": use seconds (90, 90s), minutes (10m) or hours (1h)`,
    )
  }
  return seconds
}

// The algorithm a private key signs with: its `alg` member, else inferred from the curve.
const algorithmOf = (jwk: JWK): SigningAlgorithm => {
  const inferred =
    jwk.kty === 'OKP' && jwk.crv === 'Ed25519'
      ? 'EdDSA'
      : jwk.kty === 'EC' && jwk.crv === 'P-256'
        ? 'ES256'
        : undefined
  if (inferred === undefined || (jwk.alg !== undefined && jwk.alg !== inferred)) {
    throw new Error('privateJwk must be an EdDSA (OKP Ed25519) or ES256 (EC P-256) key')
  }
  return inferred
}

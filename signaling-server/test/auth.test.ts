import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, importJWK } from 'jose'
import type { JWK, JWTPayload } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { generateKeyPair, parseDuration, signToken } from '../src/auth/dev-keys.js'
import { AuthError, createTokenVerifier, loadKeySet } from '../src/auth/token-verifier.js'
import type { TokenVerifier } from '../src/auth/token-verifier.js'

const now = (): number => Math.floor(Date.now() / 1000)

const publicKeyOf = (pair: { publicJwks: { keys: JWK[] } }): JWK => {
  const key = pair.publicJwks.keys[0]
  if (key === undefined) throw new Error('generateKeyPair returned an empty key set')
  return key
}

/** Signs arbitrary claims with a private JWK, for tokens signToken refuses to make. */
const signClaims = async (privateJwk: JWK, claims: JWTPayload): Promise<string> => {
  const alg = privateJwk.alg ?? 'EdDSA'
  const header = privateJwk.kid === undefined ? { alg } : { alg, kid: privateJwk.kid }
  return new SignJWT(claims).setProtectedHeader(header).sign(await importJWK(privateJwk, alg))
}

/** Verifies and returns the rejection, failing the test if the token was accepted. */
const rejection = async (verifier: TokenVerifier, token: string, room: string) => {
  const error: unknown = await verifier.verify(token, room).then(
    () => undefined,
    (reason: unknown) => reason,
  )
  expect(error, 'token should have been rejected').toBeInstanceOf(AuthError)
  const authError = error as AuthError
  // A token is a bearer credential: nothing about the error may repeat it.
  if (typeof token === 'string' && token.length > 0) {
    for (const text of [authError.message, String(authError), authError.stack ?? '']) {
      expect(text).not.toContain(token)
    }
    expect(JSON.stringify(authError)).not.toContain(token)
    expect(String((authError as { cause?: unknown }).cause)).not.toContain(token)
  }
  return authError
}

describe('token verifier', async () => {
  const ed = await generateKeyPair('EdDSA')
  const es = await generateKeyPair('ES256')
  const verifier = createTokenVerifier({ jwks: { keys: [publicKeyOf(ed), publicKeyOf(es)] } })

  it('accepts a write token for its room', async () => {
    const token = await signToken({
      privateJwk: ed.privateJwk,
      room: 'notes',
      perm: 'write',
      ttlSeconds: 300,
      sub: 'alice',
    })
    const grant = await verifier.verify(token, 'notes')
    expect(grant).toMatchObject({ room: 'notes', perm: 'write', sub: 'alice' })
    expect(grant.exp).toBeGreaterThanOrEqual(now() + 299)
    expect(grant.exp).toBeLessThanOrEqual(now() + 301)
  })

  it('grants read permission for a read token, without sub when the token has none', async () => {
    const token = await signToken({
      privateJwk: ed.privateJwk,
      room: 'notes',
      perm: 'read',
      ttlSeconds: 60,
    })
    const grant = await verifier.verify(token, 'notes')
    expect(grant.perm).toBe('read')
    expect(grant).not.toHaveProperty('sub')
  })

  it.each(['EdDSA', 'ES256'] as const)('verifies %s tokens', async (alg) => {
    const pair = alg === 'EdDSA' ? ed : es
    expect(pair.privateJwk.alg).toBe(alg)
    const token = await signToken({
      privateJwk: pair.privateJwk,
      room: 'r',
      perm: 'write',
      ttlSeconds: 60,
    })
    expect(
      JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()),
    ).toMatchObject({
      alg,
      kid: pair.privateJwk.kid,
    })
    await expect(verifier.verify(token, 'r')).resolves.toMatchObject({ perm: 'write' })
  })

  it('accepts a token whose "rooms" claim lists the room', async () => {
    const token = await signClaims(ed.privateJwk, {
      aud: 'coedit',
      iat: now(),
      exp: now() + 60,
      rooms: ['a', 'b'],
      perm: 'write',
    })
    await expect(verifier.verify(token, 'b')).resolves.toMatchObject({ room: 'b', perm: 'write' })
    expect((await rejection(verifier, token, 'c')).code).toBe('forbidden')
  })

  it('refuses a valid token for another room as forbidden', async () => {
    const token = await signToken({
      privateJwk: ed.privateJwk,
      room: 'a',
      perm: 'write',
      ttlSeconds: 60,
    })
    const error = await rejection(verifier, token, 'b')
    expect(error.code).toBe('forbidden')
  })

  it('refuses an expired token as unauthorized', async () => {
    const token = await signClaims(ed.privateJwk, {
      aud: 'coedit',
      iat: now() - 600,
      exp: now() - 60,
      room: 'r',
      perm: 'write',
    })
    expect((await rejection(verifier, token, 'r')).code).toBe('unauthorized')
  })

  it('tolerates small clock skew on exp, and only as much as configured', async () => {
    const token = await signClaims(ed.privateJwk, {
      aud: 'coedit',
      iat: now() - 60,
      exp: now() - 1,
      room: 'r',
      perm: 'read',
    })
    await expect(verifier.verify(token, 'r')).resolves.toMatchObject({ perm: 'read' })
    const strict = createTokenVerifier({
      jwks: { keys: [publicKeyOf(ed)] },
      clockToleranceSeconds: 0,
    })
    expect((await rejection(strict, token, 'r')).code).toBe('unauthorized')
  })

  it('refuses a token signed by a key that is not in the set', async () => {
    const stranger = await generateKeyPair('EdDSA')
    const token = await signToken({
      privateJwk: stranger.privateJwk,
      room: 'r',
      perm: 'write',
      ttlSeconds: 60,
    })
    expect((await rejection(verifier, token, 'r')).code).toBe('unauthorized')
    // Same kid as a trusted key, different key: the signature check must catch it.
    const impostor = { ...stranger.privateJwk, kid: ed.privateJwk.kid }
    const forged = await signToken({
      privateJwk: impostor,
      room: 'r',
      perm: 'write',
      ttlSeconds: 60,
    })
    expect((await rejection(verifier, forged, 'r')).message).toMatch(/signature/)
  })

  it('refuses a token with a tampered payload', async () => {
    const token = await signToken({
      privateJwk: ed.privateJwk,
      room: 'a',
      perm: 'read',
      ttlSeconds: 60,
    })
    const [header, , signature] = token.split('.')
    const payload = Buffer.from(
      JSON.stringify({ aud: 'coedit', iat: now(), exp: now() + 60, room: 'a', perm: 'write' }),
    ).toString('base64url')
    const tampered = `${header}.${payload}.${signature}`
    expect((await rejection(verifier, tampered, 'a')).code).toBe('unauthorized')
  })

  it('verifies tokens of every key in the set and refuses an old key once it is removed', async () => {
    const oldKey = await generateKeyPair('EdDSA')
    const newKey = await generateKeyPair('ES256')
    const during = createTokenVerifier({
      jwks: { keys: [publicKeyOf(oldKey), publicKeyOf(newKey)] },
    })
    const oldToken = await signToken({
      privateJwk: oldKey.privateJwk,
      room: 'r',
      perm: 'write',
      ttlSeconds: 60,
    })
    const newToken = await signToken({
      privateJwk: newKey.privateJwk,
      room: 'r',
      perm: 'read',
      ttlSeconds: 60,
    })
    await expect(during.verify(oldToken, 'r')).resolves.toMatchObject({ perm: 'write' })
    await expect(during.verify(newToken, 'r')).resolves.toMatchObject({ perm: 'read' })

    const after = createTokenVerifier({ jwks: { keys: [publicKeyOf(newKey)] } })
    expect((await rejection(after, oldToken, 'r')).code).toBe('unauthorized')
    await expect(after.verify(newToken, 'r')).resolves.toMatchObject({ perm: 'read' })
  })

  it('refuses HS256 tokens, even keyed with the public key, and alg "none"', async () => {
    const claims = { aud: 'coedit', iat: now(), exp: now() + 60, room: 'r', perm: 'write' }
    const secret = new TextEncoder().encode(JSON.stringify(publicKeyOf(ed)))
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: ed.privateJwk.kid })
      .sign(secret)
    expect((await rejection(verifier, hs256, 'r')).code).toBe('unauthorized')

    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const none = `${encode({ alg: 'none', kid: ed.privateJwk.kid })}.${encode(claims)}.`
    expect((await rejection(verifier, none, 'r')).code).toBe('unauthorized')
  })

  it('accepts only ES256 and EdDSA, even when a key would fit another algorithm name', async () => {
    // A key without an `alg` member matches any algorithm its type supports, so only the
    // verifier's allowlist stops the fully-specified "Ed25519" name (RFC 9864).
    const withoutAlg = (jwk: JWK): JWK => {
      const copy = { ...jwk }
      delete copy.alg
      return copy
    }
    const anyAlgPublic = withoutAlg(publicKeyOf(ed))
    const anyAlgPrivate = withoutAlg(ed.privateJwk)
    const lenient = createTokenVerifier({ jwks: { keys: [anyAlgPublic] } })
    const claims = { aud: 'coedit', iat: now(), exp: now() + 60, room: 'r', perm: 'write' }
    const sign = async (alg: string) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg, kid: ed.privateJwk.kid ?? '' })
        .sign(await importJWK(anyAlgPrivate, alg))
    await expect(lenient.verify(await sign('EdDSA'), 'r')).resolves.toMatchObject({ perm: 'write' })
    const error = await rejection(lenient, await sign('Ed25519'), 'r')
    expect(error.code).toBe('unauthorized')
    expect(error.message).toMatch(/algorithm/)
  })

  it('refuses tokens that live longer than the maximum TTL', async () => {
    const base = { aud: 'coedit', room: 'r', perm: 'write' }
    const longLived = await signToken({
      privateJwk: ed.privateJwk,
      room: 'r',
      perm: 'write',
      ttlSeconds: 901,
    })
    expect((await rejection(verifier, longLived, 'r')).message).toMatch(/lifetime/)
    // Without iat the remaining time counts; a future iat must not stretch the lifetime either.
    const noIat = await signClaims(ed.privateJwk, { ...base, exp: now() + 3600 })
    expect((await rejection(verifier, noIat, 'r')).code).toBe('unauthorized')
    const futureIat = await signClaims(ed.privateJwk, {
      ...base,
      iat: now() + 3000,
      exp: now() + 3600,
    })
    expect((await rejection(verifier, futureIat, 'r')).code).toBe('unauthorized')

    const shortNoIat = await signClaims(ed.privateJwk, { ...base, exp: now() + 60 })
    await expect(verifier.verify(shortNoIat, 'r')).resolves.toMatchObject({ perm: 'write' })
    const atLimit = await signToken({
      privateJwk: ed.privateJwk,
      room: 'r',
      perm: 'write',
      ttlSeconds: 900,
    })
    await expect(verifier.verify(atLimit, 'r')).resolves.toMatchObject({ perm: 'write' })
    const custom = createTokenVerifier({ jwks: { keys: [publicKeyOf(ed)] }, maxTtlSeconds: 60 })
    expect((await rejection(custom, atLimit, 'r')).code).toBe('unauthorized')
  })

  it('refuses tokens with a wrong audience, no exp, or a bad perm or room claim', async () => {
    const valid = { aud: 'coedit', iat: now(), exp: now() + 60, room: 'r', perm: 'write' }
    const cases: Record<string, unknown>[] = [
      { ...valid, aud: 'other-service' },
      { ...valid, aud: undefined },
      { ...valid, exp: undefined },
      { ...valid, perm: 'admin' },
      { ...valid, perm: undefined },
      { ...valid, room: undefined },
      { ...valid, room: undefined, rooms: 'r' },
      { ...valid, room: undefined, rooms: ['r', 7] },
      { ...valid, sub: 42 },
    ]
    for (const claims of cases) {
      const token = await signClaims(
        ed.privateJwk,
        JSON.parse(JSON.stringify(claims)) as JWTPayload,
      )
      const error = await rejection(verifier, token, 'r')
      expect(error.code, JSON.stringify(claims)).toBe('unauthorized')
    }
  })

  it('refuses garbage without throwing anything but AuthError', async () => {
    const inputs = [
      '',
      'garbage',
      'a.b.c',
      '...',
      'eyJhbGciOiJFZERTQSJ9.e30.',
      `${'x'.repeat(10_000)}.y.z`,
      undefined as unknown as string,
      { token: 1 } as unknown as string,
    ]
    for (const input of inputs) {
      expect((await rejection(verifier, input, 'r')).code).toBe('unauthorized')
    }
  })

  it('keeps the token out of every error it produces', async () => {
    const token = await signToken({
      privateJwk: ed.privateJwk,
      room: 'a',
      perm: 'write',
      ttlSeconds: 60,
    })
    const error = await rejection(verifier, token, 'b')
    expect(error.message).not.toContain(token)
    // Parts of the token are as sensitive as the whole for anyone pasting logs around.
    expect(error.message).not.toContain(token.split('.')[2])
  })
})

describe('createTokenVerifier misuse', async () => {
  const pair = await generateKeyPair()

  it('throws when the key set contains a private key', () => {
    expect(() => createTokenVerifier({ jwks: { keys: [pair.privateJwk] } })).toThrow(/private/)
    expect(() =>
      createTokenVerifier({ jwks: { keys: [publicKeyOf(pair), pair.privateJwk] } }),
    ).toThrow(/private/)
  })

  it('throws when the key set is empty', () => {
    expect(() => createTokenVerifier({ jwks: { keys: [] } })).toThrow(/no keys/)
  })

  it('throws on symmetric keys, unusable curves and repeated kids', () => {
    expect(() =>
      createTokenVerifier({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 's' }] } }),
    ).toThrow(/private/)
    expect(() =>
      createTokenVerifier({ jwks: { keys: [{ ...publicKeyOf(pair), crv: 'X25519' }] } }),
    ).toThrow(/EdDSA/)
    expect(() =>
      createTokenVerifier({ jwks: { keys: [publicKeyOf(pair), publicKeyOf(pair)] } }),
    ).toThrow(/twice/)
  })
})

describe('loadKeySet', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coedit-auth-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const pair = await generateKeyPair('ES256')
  const write = (name: string, text: string): string => {
    const path = join(dir, name)
    writeFileSync(path, text)
    return path
  }

  it('reads a JWKS file and a single public JWK file', async () => {
    const jwksPath = write('jwks.json', JSON.stringify(pair.publicJwks))
    expect(loadKeySet(jwksPath)).toEqual(pair.publicJwks)
    const singlePath = write('single.json', JSON.stringify(publicKeyOf(pair)))
    const keys = loadKeySet(singlePath)
    expect(keys).toEqual(pair.publicJwks)
    const token = await signToken({
      privateJwk: pair.privateJwk,
      room: 'r',
      perm: 'read',
      ttlSeconds: 60,
    })
    await expect(createTokenVerifier({ jwks: keys }).verify(token, 'r')).resolves.toMatchObject({
      perm: 'read',
    })
  })

  it('names the file when it is missing, not JSON, not a key set or private', () => {
    const missing = join(dir, 'missing.json')
    expect(() => loadKeySet(missing)).toThrow(missing)
    const notJson = write('bad.json', '{ nope')
    expect(() => loadKeySet(notJson)).toThrow(new RegExp(`${notJson}.*not valid JSON`))
    const notKeys = write('other.json', '{"hello": 1}')
    expect(() => loadKeySet(notKeys)).toThrow(notKeys)
    const privatePath = write('private.json', JSON.stringify(pair.privateJwk))
    expect(() => loadKeySet(privatePath)).toThrow(/private key material/)
    expect(() => loadKeySet(privatePath)).toThrow(privatePath)
  })
})

describe('dev keys', () => {
  it.each(['EdDSA', 'ES256'] as const)('generates a %s pair with kid, alg and use', async (alg) => {
    const { privateJwk, publicJwks } = await generateKeyPair(alg)
    const publicJwk = publicJwks.keys[0]
    expect(publicJwks.keys).toHaveLength(1)
    expect(privateJwk).toMatchObject({ alg, use: 'sig' })
    expect(typeof privateJwk.d).toBe('string')
    expect(publicJwk).toMatchObject({ alg, use: 'sig', kid: privateJwk.kid })
    expect(publicJwk).not.toHaveProperty('d')
    expect(privateJwk.kid).toMatch(/^[\w-]{8,}$/)
    expect((await generateKeyPair(alg)).privateJwk.kid).not.toBe(privateJwk.kid)
  })

  it('refuses a non-positive TTL and a public key when signing', async () => {
    const pair = await generateKeyPair()
    for (const ttlSeconds of [0, -5, Number.NaN]) {
      await expect(
        signToken({ privateJwk: pair.privateJwk, room: 'r', perm: 'write', ttlSeconds }),
      ).rejects.toThrow(/ttlSeconds/)
    }
    await expect(
      signToken({ privateJwk: publicKeyOf(pair), room: 'r', perm: 'write', ttlSeconds: 60 }),
    ).rejects.toThrow(/private/)
  })

  it('signs the documented claims', async () => {
    const pair = await generateKeyPair()
    const token = await signToken({
      privateJwk: pair.privateJwk,
      room: 'r',
      perm: 'read',
      ttlSeconds: 120,
      sub: 'bob',
    })
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString())
    expect(claims).toMatchObject({ aud: 'coedit', room: 'r', perm: 'read', sub: 'bob' })
    expect(claims.exp - claims.iat).toBe(120)
  })

  it.each([
    ['90', 90],
    ['90s', 90],
    ['10m', 600],
    ['1h', 3600],
    [' 15m ', 900],
    ['0', 0],
  ])('parses duration %j as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds)
  })

  it.each(['', 'abc', '10x', '1.5h', '-5', '10 m', 'm', '1d', '99999999999999999999h'])(
    'refuses duration %j',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/Invalid duration/)
    },
  )
})

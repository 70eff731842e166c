/**
 * `coedit-server` entry point: parses arguments and wires the server, the key tools and signal
 * handling together. No logic of its own beyond that.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { JWK } from 'jose'
import { generateKeyPair, parseDuration, signToken } from './auth/dev-keys.js'
import { createRevocationList } from './auth/revocation-list.js'
import { createTokenVerifier, loadKeySet } from './auth/token-verifier.js'
import { parseServeOptions, SERVE_USAGE } from './cli-options.js'
import { createLogger } from './logger.js'
import { createServer } from './server.js'
import { exportRoom, importRoom } from './storage/room-archive.js'
import { createSqliteStorage } from './storage/sqlite-storage.js'

/** Hard limit for a graceful shutdown (R17: exit within 30 s). */
const SHUTDOWN_DEADLINE_MS = 25_000
const SHUTDOWN_HARD_LIMIT_MS = 29_000

const serve = async (argv: readonly string[]) => {
  const options = parseServeOptions(argv)
  const logger = createLogger(options.logLevel)
  const auth =
    options.authKeys === undefined
      ? undefined
      : createTokenVerifier({ jwks: loadKeySet(options.authKeys) })
  if (options.revocations !== undefined && auth === undefined) {
    throw new Error('--revocations needs --auth-keys (revocation applies to tokens)')
  }
  const revocations =
    options.revocations === undefined
      ? undefined
      : createRevocationList({ path: options.revocations, logger })
  const server = createServer({
    host: options.host,
    port: options.port,
    dataDir: options.dataDir,
    ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
    ...(options.postgresUrl === undefined ? {} : { postgresUrl: options.postgresUrl }),
    ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }),
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    ...(auth === undefined ? {} : { auth }),
    ...(revocations === undefined ? {} : { revocations }),
    insecure: options.insecure,
    ...(options.publicDir === undefined ? {} : { publicDir: options.publicDir }),
    ...(options.scriptBundle === undefined ? {} : { scriptBundle: options.scriptBundle }),
    logger,
    limits: options.limits,
    persistence: options.persistence,
    cluster: options.cluster,
  })
  const address = await server.listen()
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    setTimeout(() => {
      logger.error('shutdown took too long; exiting')
      process.exit(1)
    }, SHUTDOWN_HARD_LIMIT_MS).unref()
    server
      .close({ deadlineMs: SHUTDOWN_DEADLINE_MS })
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        process.exit(1)
      })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  // Announced only once the handlers are in place: a supervisor may send SIGTERM as soon as it
  // reads this line, and the default action would skip the graceful shutdown.
  process.stderr.write(`Coedit server running at ${address.url}\n`)
}

const keygen = async (argv: readonly string[]) => {
  const { values } = parseArgs({
    args: [...argv],
    options: { alg: { type: 'string', default: 'EdDSA' }, out: { type: 'string' } },
  })
  if (values.alg !== 'EdDSA' && values.alg !== 'ES256') {
    throw new Error('--alg must be EdDSA or ES256')
  }
  const { privateJwk, publicJwks } = await generateKeyPair(values.alg)
  if (values.out === undefined) {
    process.stdout.write(JSON.stringify({ privateJwk, publicJwks }, null, 2) + '\n')
    return
  }
  mkdirSync(values.out, { recursive: true })
  const privatePath = join(values.out, 'coedit-private.jwk.json')
  const publicPath = join(values.out, 'coedit-public.jwks.json')
  writeFileSync(privatePath, JSON.stringify(privateJwk, null, 2) + '\n', { mode: 0o600 })
  writeFileSync(publicPath, JSON.stringify(publicJwks, null, 2) + '\n')
  process.stderr.write(
    `Wrote ${privatePath} (keep it secret: it signs tokens)\n` +
      `Wrote ${publicPath} (start the server with --auth-keys ${publicPath})\n`,
  )
}

const token = async (argv: readonly string[]) => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      key: { type: 'string' },
      room: { type: 'string' },
      perm: { type: 'string', default: 'write' },
      ttl: { type: 'string', default: '10m' },
      sub: { type: 'string' },
    },
  })
  if (values.key === undefined || values.room === undefined) {
    throw new Error('token needs --key <private.jwk.json> and --room <room>')
  }
  if (values.perm !== 'read' && values.perm !== 'write') {
    throw new Error('--perm must be read or write')
  }
  const privateJwk = JSON.parse(readFileSync(values.key, 'utf8')) as JWK
  const jwt = await signToken({
    privateJwk,
    room: values.room,
    perm: values.perm,
    ttlSeconds: parseDuration(values.ttl),
    ...(values.sub === undefined ? {} : { sub: values.sub }),
  })
  process.stdout.write(jwt + '\n')
}

/** `export` / `import`: a room's state as one binary Yjs update (see storage/room-archive.ts). */
const archive = async (direction: 'export' | 'import', argv: readonly string[]) => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      data: { type: 'string', default: process.env['COEDIT_DATA'] ?? './data' },
      room: { type: 'string' },
      file: { type: 'string' },
    },
  })
  if (values.room === undefined || values.file === undefined) {
    throw new Error(`${direction} needs --room <room> and --file <path>`)
  }
  const storage = createSqliteStorage({ dir: values.data, writer: 'inline' })
  try {
    if (direction === 'export') {
      const update = await exportRoom(storage, values.room)
      writeFileSync(values.file, update)
      process.stderr.write(`Exported room ${values.room} (${update.length} bytes)\n`)
    } else {
      await importRoom(storage, values.room, new Uint8Array(readFileSync(values.file)))
      process.stderr.write(`Imported ${values.file} into room ${values.room}\n`)
    }
  } finally {
    await storage.close()
  }
}

export const main = async (argv: readonly string[]): Promise<void> => {
  const [command, ...rest] = argv
  try {
    if (command === 'keygen') await keygen(rest)
    else if (command === 'token') await token(rest)
    else if (command === 'export' || command === 'import') await archive(command, rest)
    else if (command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(SERVE_USAGE)
    } else await serve(command === 'serve' ? rest : argv)
  } catch (error) {
    process.stderr.write(
      `coedit-server: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.stderr.write('Run `coedit-server --help` for usage.\n')
    process.exit(2)
  }
}

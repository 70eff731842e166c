/**
 * Command-line flags and their environment variables for `coedit-server`. Each flag has a
 * `COEDIT_*` variable; a flag given on the command line wins.
 */
import { parseArgs } from 'node:util'
import type { ClusterOptions, Limits, PersistenceOptions } from './config.js'

export interface ServeOptions {
  host: string
  port: number
  dataDir: string
  /** PostgreSQL URL; undefined: SQLite in `dataDir`. */
  postgresUrl: string | undefined
  /** Redis URL shared by the instances; undefined: a single instance. */
  redisUrl: string | undefined
  allowedOrigins: string[] | undefined
  trustProxy: string[] | undefined
  authKeys: string | undefined
  revocations: string | undefined
  insecure: boolean
  /** Static files at `/`; undefined: none. */
  publicDir: string | undefined
  /** The bundle file; `false`: none; undefined: the SDK's build if there is one. */
  scriptBundle: string | false | undefined
  logLevel: string
  limits: Partial<Limits>
  persistence: Partial<PersistenceOptions>
  cluster: Partial<Pick<ClusterOptions, 'syncIntervalMs'>>
}

/** Numeric flags: flag name → [environment variable, option path]. */
const NUMERIC_FLAGS = {
  'max-frame-bytes': ['COEDIT_MAX_FRAME_BYTES', 'limits', 'maxFrameBytes'],
  'max-document-bytes': ['COEDIT_MAX_DOCUMENT_BYTES', 'limits', 'maxDocumentBytes'],
  'max-connections-per-ip': ['COEDIT_MAX_CONNECTIONS_PER_IP', 'limits', 'maxConnectionsPerIp'],
  'connections-per-second': ['COEDIT_CONNECTIONS_PER_SECOND', 'limits', 'connectionsPerSecond'],
  'messages-per-second': ['COEDIT_MESSAGES_PER_SECOND', 'limits', 'messagesPerSecond'],
  'bytes-per-second': ['COEDIT_BYTES_PER_SECOND', 'limits', 'bytesPerSecond'],
  'max-topics': ['COEDIT_MAX_TOPICS', 'limits', 'maxTopicsPerConnection'],
  'max-buffered-bytes': ['COEDIT_MAX_BUFFERED_BYTES', 'limits', 'maxBufferedBytes'],
  'ping-interval-ms': ['COEDIT_PING_INTERVAL_MS', 'limits', 'pingIntervalMs'],
  'batch-window-ms': ['COEDIT_BATCH_WINDOW_MS', 'persistence', 'batchWindowMs'],
  'room-idle-ms': ['COEDIT_ROOM_IDLE_MS', 'persistence', 'roomIdleMs'],
  'compact-after-rows': ['COEDIT_COMPACT_AFTER_ROWS', 'persistence', 'compactAfterRows'],
  'cluster-sync-interval-ms': ['COEDIT_CLUSTER_SYNC_INTERVAL_MS', 'cluster', 'syncIntervalMs'],
} as const

export const SERVE_USAGE = `Usage: coedit-server [options]
       coedit-server keygen [--alg EdDSA|ES256] [--out <dir>]
       coedit-server token --key <private.jwk.json> --room <room> [--perm read|write] [--ttl 10m] [--sub <id>]
       coedit-server export|import --data <dir> --room <room> --file <path>

Options (environment variable in brackets):
  --host <addr>                 interface to listen on [COEDIT_HOST] (default 127.0.0.1)
  --port <n>                    port [COEDIT_PORT] (default 8787)
  --data <dir>                  SQLite directory [COEDIT_DATA] (default ./data)
  --postgres <url>              store rooms in PostgreSQL instead [COEDIT_POSTGRES_URL]
  --redis <url>                 share rooms with other instances via Redis [COEDIT_REDIS_URL]
  --allowed-origins <a,b>       origins allowed to connect, or * [COEDIT_ALLOWED_ORIGINS]
                                (default: same origin and loopback origins)
  --trust-proxy <ip,ip>         reverse proxies whose X-Forwarded-For names the client, for
                                per-IP limits [COEDIT_TRUST_PROXY] (default: none)
  --auth-keys <jwks.json>       public keys; enables auth [COEDIT_AUTH_KEYS]
  --revocations <file>          JSON of revoked subjects/token ids, watched [COEDIT_REVOCATIONS]
  --insecure                    allow a non-loopback host without auth [COEDIT_INSECURE=1]
  --public <dir>                static files served at / [COEDIT_PUBLIC] (default: none)
  --script-bundle <file>        coedit.js served at /coedit.js [COEDIT_SCRIPT_BUNDLE]
                                (default: the SDK's build, if built)
  --no-script-bundle            serve no script bundle [COEDIT_NO_SCRIPT_BUNDLE=1]
  --log-level <level>           pino level [LOG_LEVEL] (default info)
Limits:
${Object.entries(NUMERIC_FLAGS)
  .map(([flag, [env]]) => `  --${flag} <n>`.padEnd(32) + `[${env}]`)
  .join('\n')}
`

const numberFrom = (name: string, text: string): number => {
  const value = Number(text)
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`--${name} must be a non-negative number, got "${text}"`)
  }
  return value
}

export const parseServeOptions = (
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ServeOptions => {
  const numericOptions = Object.fromEntries(
    Object.keys(NUMERIC_FLAGS).map((flag) => [flag, { type: 'string' as const }]),
  )
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      data: { type: 'string' },
      postgres: { type: 'string' },
      redis: { type: 'string' },
      'allowed-origins': { type: 'string' },
      'trust-proxy': { type: 'string' },
      'auth-keys': { type: 'string' },
      revocations: { type: 'string' },
      insecure: { type: 'boolean' },
      public: { type: 'string' },
      'script-bundle': { type: 'string' },
      'no-script-bundle': { type: 'boolean' },
      'log-level': { type: 'string' },
      ...numericOptions,
    },
  })
  const text = (flag: string, variable: string): string | undefined => {
    const value = (values as Record<string, unknown>)[flag]
    return typeof value === 'string' ? value : env[variable]
  }
  const origins = text('allowed-origins', 'COEDIT_ALLOWED_ORIGINS')
  const proxies = text('trust-proxy', 'COEDIT_TRUST_PROXY')
  const groups: Record<'limits' | 'persistence' | 'cluster', Record<string, number>> = {
    limits: {},
    persistence: {},
    cluster: {},
  }
  for (const [flag, [variable, group, key]] of Object.entries(NUMERIC_FLAGS)) {
    const value = text(flag, variable)
    if (value === undefined) continue
    groups[group][key] = numberFrom(flag, value)
  }
  const isSet = (variable: string) => env[variable] === '1' || env[variable] === 'true'
  if (values['no-script-bundle'] === true && values['script-bundle'] !== undefined) {
    throw new Error('pass either --script-bundle <file> or --no-script-bundle, not both')
  }
  // A flag wins over both variables: `--script-bundle` over COEDIT_NO_SCRIPT_BUNDLE too.
  const bundleFile = values['script-bundle']
  const scriptBundle =
    bundleFile ??
    (values['no-script-bundle'] === true || isSet('COEDIT_NO_SCRIPT_BUNDLE')
      ? false
      : env['COEDIT_SCRIPT_BUNDLE'])
  return {
    host: text('host', 'COEDIT_HOST') ?? '127.0.0.1',
    port: numberFrom('port', text('port', 'COEDIT_PORT') ?? '8787'),
    dataDir: text('data', 'COEDIT_DATA') ?? './data',
    postgresUrl: text('postgres', 'COEDIT_POSTGRES_URL'),
    redisUrl: text('redis', 'COEDIT_REDIS_URL'),
    allowedOrigins: origins
      ?.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    trustProxy: proxies
      ?.split(',')
      .map((address) => address.trim())
      .filter(Boolean),
    authKeys: text('auth-keys', 'COEDIT_AUTH_KEYS'),
    revocations: text('revocations', 'COEDIT_REVOCATIONS'),
    insecure: values.insecure === true || isSet('COEDIT_INSECURE'),
    publicDir: text('public', 'COEDIT_PUBLIC'),
    scriptBundle,
    logLevel: text('log-level', 'LOG_LEVEL') ?? 'info',
    limits: groups.limits,
    persistence: groups.persistence,
    cluster: groups.cluster,
  }
}

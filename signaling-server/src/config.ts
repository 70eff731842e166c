/**
 * Server options and their defaults, in one place. Every limit is configurable (requirements.md:
 * "numbers are defaults"); the CLI maps flags and environment variables onto these fields.
 */
import type { Logger } from 'pino'
import type { RevocationList } from './auth/revocation-list.js'
import type { TokenVerifier } from './auth/token-verifier.js'
import type { Storage } from './storage/storage.js'

export interface Limits {
  /** Largest accepted WebSocket frame, bytes. Default 16 MiB (a 5 MB paste must fit). */
  maxFrameBytes: number
  /** Sustained messages per second per connection. Default 100 (fast typing needs ~30). */
  messagesPerSecond: number
  /** Message burst per connection. Default 500. */
  messageBurst: number
  /** Sustained bytes per second per connection. Default 1 MiB/s. */
  bytesPerSecond: number
  /** Byte burst per connection; never below `maxFrameBytes`. Default 2 × maxFrameBytes. */
  byteBurst: number
  /** Signaling topics one connection may subscribe to. Default 64. */
  maxTopicsPerConnection: number
  /** Largest stored size of one room's document, bytes. Default 64 MiB. */
  maxDocumentBytes: number
  /** Concurrent WebSocket connections per client IP. Default 512. */
  maxConnectionsPerIp: number
  /** New WebSocket connections accepted per second, server-wide (reconnect storms). Default 500. */
  connectionsPerSecond: number
  /** Burst of new connections. Default 2000. */
  connectionBurst: number
  /** Send-buffer cap per connection; past it the connection is closed as a slow consumer. 8 MiB. */
  maxBufferedBytes: number
  /** Interval of WebSocket pings; a connection silent for two intervals is dropped. 15 000 ms. */
  pingIntervalMs: number
  /**
   * Longest a relay connection goes without an application message before the server sends an
   * empty awareness update. Stock clients reconnect after 30 s (v3) of silence. 15 000 ms.
   */
  keepaliveMs: number
}

export interface PersistenceOptions {
  /** Group-commit window: updates arriving within it share one transaction. Default 25 ms. */
  batchWindowMs: number
  /** First retry delay after a storage failure. Default 50 ms (doubles, with jitter). */
  retryMinMs: number
  /** Largest retry delay; bounds how long "unsaved" lasts after storage recovers. 500 ms. */
  retryMaxMs: number
  /** Compact a room's log once it holds this many rows. Default 500. */
  compactAfterRows: number
  /** …or once the log holds at least this many bytes and twice the snapshot's. 64 KiB. */
  compactAfterBytes: number
  /** Unload a room this long after its last connection left (flushed first). 60 000 ms. */
  roomIdleMs: number
}

export interface ServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string
  /** Port; 0 picks a free one. Default 8787. */
  port?: number
  /** SQLite directory, used when `storage` is not given. Default `./data`. */
  dataDir?: string
  /**
   * A PostgreSQL URL (`postgres://user@host:5432/db`): store rooms there instead of SQLite, so
   * that several server instances can share them. Ignored when `storage` is given; `dataDir` is
   * then unused. The schema is created or migrated at start. Default: none (SQLite).
   */
  postgresUrl?: string
  /**
   * A storage backend; defaults to PostgreSQL at `postgresUrl` if set, else SQLite in `dataDir`.
   * The server closes it on `close()`.
   */
  storage?: Storage
  /**
   * A Redis URL (`redis://host:6379`) shared by several server instances: document updates,
   * awareness and signaling then reach clients on every instance, whichever one they reached
   * (one pub/sub channel per room and per signaling topic). If Redis is unreachable the
   * instance serves its own clients, reports `redis: "down"` on `/healthz`, and resyncs its rooms
   * with the other instances when Redis returns. Default: none (a single instance).
   */
  redisUrl?: string
  /**
   * Origins allowed to open WebSockets. Default: same origin as the server and loopback origins.
   * `['*']` allows any origin. Requests without an Origin header (non-browser clients) pass.
   */
  allowedOrigins?: readonly string[]
  /**
   * Addresses of reverse proxies in front of this server. A connection from one of them is
   * counted, for per-IP limits, under the last `X-Forwarded-For` address (the client the proxy
   * saw). Default: none — every connection is counted under its socket's peer address.
   */
  trustProxy?: readonly string[]
  /** Verifies access tokens. Absent: the server runs open (loopback only unless `insecure`). */
  auth?: TokenVerifier
  /** Revoked subjects and tokens; matching connections are closed with 4403 (R30). */
  revocations?: RevocationList
  /** Allow listening on a non-loopback address without auth. Default false. */
  insecure?: boolean
  /**
   * The `coedit.js` script bundle served at `/coedit.js`, `/coedit.<hash>.js` and `/coedit.json`:
   * a file path (it must exist at startup; a rebuild is picked up without a restart), or `false`
   * for none. Default: the SDK's build (`@coedit/sdk/coedit.js`) if it has been built, else none
   * (logged once with how to build it).
   */
  scriptBundle?: string | false
  /**
   * Directory of static files served at `/` (index.html for directories), read per request.
   * Routes (`/healthz`, `/metrics`, the bundle, the WebSocket endpoints) win over files. Default:
   * none — `/` answers a short text page.
   */
  publicDir?: string
  /** A pino logger, or `false` for none. Default: JSON logs to stdout at `info`. */
  logger?: Logger | false
  limits?: Partial<Limits>
  persistence?: Partial<PersistenceOptions>
  /** Settings of the instances sharing rooms over `redisUrl`; unused without it. */
  cluster?: Partial<ClusterOptions>
}

export interface ClusterOptions {
  /**
   * Mean period of each loaded room's anti-entropy digest (its state vector, a digest of its
   * delete set and what it knows to be stored), jittered ±50 % so that instances do not tick
   * together: a message lost between instances heals within about one period, without a reload
   * or a Redis reconnect (R13). Default 10 000 ms.
   */
  syncIntervalMs: number
  /**
   * Fault injection for tests: a publication to Redis for which this returns true is dropped,
   * as a lost message would be. Default: none.
   */
  dropPublish: ((channel: string, payload: Uint8Array) => boolean) | undefined
}

export const defaultCluster = (overrides: Partial<ClusterOptions> = {}): ClusterOptions => ({
  syncIntervalMs: 10_000,
  dropPublish: undefined,
  ...overrides,
})

export const defaultLimits = (overrides: Partial<Limits> = {}): Limits => {
  const maxFrameBytes = overrides.maxFrameBytes ?? 16 * 1024 * 1024
  const limits: Limits = {
    maxFrameBytes,
    messagesPerSecond: 100,
    messageBurst: 500,
    bytesPerSecond: 1024 * 1024,
    byteBurst: 2 * maxFrameBytes,
    maxTopicsPerConnection: 64,
    maxDocumentBytes: 64 * 1024 * 1024,
    maxConnectionsPerIp: 512,
    connectionsPerSecond: 500,
    connectionBurst: 2000,
    maxBufferedBytes: 8 * 1024 * 1024,
    pingIntervalMs: 15_000,
    keepaliveMs: 15_000,
    ...overrides,
  }
  limits.byteBurst = Math.max(limits.byteBurst, limits.maxFrameBytes)
  return limits
}

export const defaultPersistence = (
  overrides: Partial<PersistenceOptions> = {},
): PersistenceOptions => ({
  batchWindowMs: 25,
  retryMinMs: 50,
  retryMaxMs: 500,
  compactAfterRows: 500,
  compactAfterBytes: 64 * 1024,
  roomIdleMs: 60_000,
  ...overrides,
})

/** Whether a host name or address only accepts connections from this machine. */
export const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' ||
  host === '::1' ||
  host === '[::1]' ||
  /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)

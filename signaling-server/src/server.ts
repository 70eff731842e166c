/**
 * `createServer`: one Node process, one port — HTTP (`/healthz`, `/metrics`, the `coedit.js`
 * bundle, an optional public directory), y-webrtc signaling on `/signal`, the y-websocket relay
 * on `/relay/<room>` — over a durable store.
 *
 * This module wires parts together and owns the connection lifecycle: admission at upgrade
 * (origin, per-IP and per-second limits, token, protocol version, room load), liveness (pings,
 * keepalives) and shutdown (close with "reconnect", flush, exit). Protocol logic lives in
 * `relay/` and `signaling/`.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { COEDIT_PROTOCOL_VERSION, CoeditError, type CloseReason } from '@coedit/sdk/protocol'
import type { Logger } from 'pino'
import { WebSocketServer, type WebSocket } from 'ws'
import { AuthError, type TokenGrant } from './auth/token-verifier.js'
import {
  defaultCluster,
  defaultLimits,
  defaultPersistence,
  isLoopbackHost,
  type ServerOptions,
} from './config.js'
import { createPeerSocket, type PeerSocket } from './connection/peer-socket.js'
import { clientAddress, trustedProxies } from './http/client-address.js'
import { createHttpHandler } from './http/http-routes.js'
import { openScriptBundle } from './http/script-bundle.js'
import { createStaticFiles } from './http/static-files.js'
import {
  isOriginAllowed,
  parseUpgradeRequest,
  selectProtocol,
  type UpgradeTarget,
} from './http/upgrade-request.js'
import { TokenBucket } from './limits/token-bucket.js'
import { createLogger, silentLogger } from './logger.js'
import { createMetrics, type Metrics } from './metrics.js'
import { createGroupCommit } from './relay/group-commit.js'
import { createRelayClient } from './relay/relay-client.js'
import { createDocumentLoader } from './relay/load-document.js'
import { createRoomRegistry } from './relay/room-registry.js'
import type { Room } from './relay/room.js'
import { createSignalHub } from './signaling/signal-hub.js'
import { createRedisBus } from './cluster/redis-bus.js'
import { createRoomCluster } from './cluster/room-channel.js'
import { createSignalCluster } from './cluster/signal-channel.js'
import { createLoadWorker } from './storage/load-worker.js'
import { createMergeWorker } from './storage/merge-updates.js'
import { createPostgresStorage } from './storage/postgres-storage.js'
import { createSqliteStorage } from './storage/sqlite-storage.js'

export interface ServerAddress {
  readonly host: string
  readonly port: number
  /** `http://host:port` — the base URL clients are given. */
  readonly url: string
}

export interface CoeditServer {
  /** Starts listening; resolves with the bound address (useful with `port: 0`). */
  listen(): Promise<ServerAddress>
  /**
   * Graceful shutdown: stop accepting, close every client with "reconnect" (1012), flush all
   * rooms to storage, close storage. Resolves within `deadlineMs` (default 25 000).
   */
  close(options?: { deadlineMs?: number }): Promise<void>
  /** The bound address, or null before `listen()`. */
  address(): ServerAddress | null
  /** The server's Prometheus metrics (the same as served on `/metrics`). */
  readonly metrics: Metrics
}

/** Why an accepted WebSocket is closed right after opening (browsers see close codes only). */
interface Refusal {
  readonly reason: CloseReason
  readonly detail: string
}

type Admission =
  | { readonly kind: 'refused'; readonly refusal: Refusal }
  | { readonly kind: 'signal'; readonly token: string | undefined }
  | {
      readonly kind: 'relay'
      readonly room: Room
      readonly grant: TokenGrant | undefined
      readonly coedit: boolean
    }

const HTTP_STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
const rejectUpgrade = (socket: Duplex, status: number, extraHeaders = '') => {
  if (!socket.writable) return
  const body = JSON.stringify({ error: HTTP_STATUS_TEXT[status] ?? 'error' })
  socket.end(
    `HTTP/1.1 ${status} ${HTTP_STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nCache-Control: no-store\r\n' +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `${extraHeaders}\r\n${body}`,
  )
}

export const createServer = (options: ServerOptions = {}): CoeditServer => {
  const host = options.host ?? '127.0.0.1'
  const limits = defaultLimits(options.limits)
  const persistence = defaultPersistence(options.persistence)
  const logger: Logger =
    options.logger === false ? silentLogger() : (options.logger ?? createLogger())
  const auth = options.auth
  if (!isLoopbackHost(host) && auth === undefined && options.insecure !== true) {
    throw new CoeditError(
      'insecure-listen',
      `Refusing to listen on ${host} without auth keys: pass --auth-keys <jwks.json> ` +
        '(or --insecure if this network is trusted).',
    )
  }
  // Both check their paths now: a wrong path fails at startup, before storage is opened.
  const scriptBundle = openScriptBundle(options.scriptBundle, logger)
  const publicFiles =
    options.publicDir === undefined
      ? undefined
      : createStaticFiles({ dir: options.publicDir, logger })
  const metrics = createMetrics()
  const storage =
    options.storage ??
    (options.postgresUrl === undefined
      ? createSqliteStorage({ dir: options.dataDir ?? './data' })
      : createPostgresStorage({
          connectionString: options.postgresUrl,
          onBackgroundError: (error) => logger.warn({ err: error }, 'PostgreSQL storage error'),
        }))
  const mergeWorker = createMergeWorker()
  const loadWorker = createLoadWorker()
  const commit = createGroupCommit({ storage, settings: persistence, metrics, logger })
  const cluster = defaultCluster(options.cluster)
  const bus =
    options.redisUrl === undefined
      ? undefined
      : createRedisBus({
          url: options.redisUrl,
          logger,
          metrics,
          dropPublish: cluster.dropPublish,
        })
  const roomCluster =
    bus === undefined
      ? undefined
      : createRoomCluster({ bus, logger, syncIntervalMs: cluster.syncIntervalMs })
  const signalCluster = bus === undefined ? undefined : createSignalCluster({ bus, logger })
  const registry = createRoomRegistry({
    storage,
    limits,
    persistence,
    metrics,
    logger,
    merge: mergeWorker.merge,
    commit,
    cluster: roomCluster,
    loadDocument: createDocumentLoader({ worker: loadWorker, metrics, logger }),
  })
  const revocations = options.revocations
  const hub = createSignalHub({
    limits,
    metrics,
    logger,
    auth,
    revocations,
    cluster: signalCluster,
  })
  /** Grants of open relay connections, for revocation. */
  const relayGrants = new Map<PeerSocket, TokenGrant>()
  revocations?.onChange(() => {
    for (const [peer, grant] of relayGrants) {
      if (revocations.isRevoked(grant)) peer.close('forbidden', 'token revoked')
    }
    hub.enforceRevocations()
  })
  const peers = new Set<PeerSocket>()
  const proxies = trustedProxies(options.trustProxy)
  const connectionsPerIp = new Map<string, number>()
  const acceptRate = new TokenBucket(limits.connectionsPerSecond, limits.connectionBurst)
  let closing = false
  let bound: ServerAddress | null = null

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes,
    perMessageDeflate: false,
    handleProtocols: selectProtocol,
  })

  const httpServer = createHttpServer(
    createHttpHandler({
      metrics,
      logger,
      scriptBundle,
      publicFiles,
      health: {
        storageHealthy: () => storage.healthy(),
        rooms: () => [...registry.rooms()].length,
        connections: () => peers.size,
        redis: bus === undefined ? undefined : () => (bus.up ? 'up' : 'down'),
      },
    }),
  )

  const admit = async (target: UpgradeTarget): Promise<Admission> => {
    let grant: TokenGrant | undefined
    if (target.endpoint === 'signal') return { kind: 'signal', token: target.token }
    if (target.coedit !== undefined && target.coedit !== COEDIT_PROTOCOL_VERSION.major) {
      const detail = `server speaks coedit/${COEDIT_PROTOCOL_VERSION.major}`
      return { kind: 'refused', refusal: { reason: 'upgradeRequired', detail } }
    }
    if (auth !== undefined) {
      if (target.token === undefined) {
        return { kind: 'refused', refusal: { reason: 'unauthorized', detail: 'token required' } }
      }
      try {
        grant = await auth.verify(target.token, target.room)
      } catch (error) {
        const reason = error instanceof AuthError ? error.code : 'unauthorized'
        return { kind: 'refused', refusal: { reason, detail: 'token rejected' } }
      }
      if (revocations?.isRevoked(grant)) {
        return { kind: 'refused', refusal: { reason: 'forbidden', detail: 'token revoked' } }
      }
    }
    try {
      const room = await registry.get(target.room)
      return { kind: 'relay', room, grant, coedit: target.coedit !== undefined }
    } catch (error) {
      logger.error({ room: target.room, err: error }, 'room load failed')
      const refusal: Refusal = { reason: 'unavailable', detail: 'storage unavailable' }
      return { kind: 'refused', refusal }
    }
  }

  /** Attaches a relay connection to its room; returns what to undo when it closes. */
  const openRelay = (
    peer: PeerSocket,
    admission: Extract<Admission, { kind: 'relay' }>,
  ): (() => void) => {
    const { room, grant } = admission
    const client = createRelayClient(peer, {
      readOnly: grant?.perm === 'read',
      coedit: admission.coedit,
    })
    room.join(client)
    if (grant !== undefined) relayGrants.set(peer, grant)
    // Short-lived tokens mean something only if they end the connection: the client reconnects
    // with a fresh one (the SDK calls getToken() again).
    const expiry =
      grant === undefined
        ? undefined
        : setTimeout(
            () => peer.close('unauthorized', 'token expired'),
            Math.max(0, grant.exp * 1000 - Date.now()),
          )
    expiry?.unref()
    peer.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        metrics.drops.labels('bad-message').inc()
        peer.close('badMessage', 'relay frames are binary')
        return
      }
      room.receive(client, data)
    })
    return () => {
      clearTimeout(expiry)
      relayGrants.delete(peer)
      room.leave(client)
    }
  }

  /** Attaches a signaling connection to the hub; returns what to undo when it closes. */
  const openSignal = (peer: PeerSocket, token: string | undefined): (() => void) => {
    const client = hub.join(peer, token)
    peer.ws.on('message', (data: Buffer, isBinary: boolean) => hub.receive(client, data, isBinary))
    return () => hub.leave(client)
  }

  // Listeners shared by every connection (one function each, not one closure per socket); they
  // find the connection through `peerOf`.
  const peerOf = new Map<WebSocket, PeerSocket>()
  function onPong(this: WebSocket) {
    const peer = peerOf.get(this)
    if (peer !== undefined) peer.lastPongAt = performance.now()
  }
  function onWsError(this: WebSocket, error: Error) {
    logger.info({ conn: peerOf.get(this)?.id, err: error }, 'socket error')
  }

  const nothingToUndo = () => undefined

  /** Attaches an admitted connection to its endpoint (or refuses it); returns the undo. */
  const attach = (peer: PeerSocket, admission: Admission): (() => void) => {
    if (admission.kind === 'refused') {
      peer.close(admission.refusal.reason, admission.refusal.detail)
      return nothingToUndo
    }
    if (closing) {
      if (admission.kind === 'relay') admission.room.release()
      peer.close('restart', 'reconnect')
      return nothingToUndo
    }
    return admission.kind === 'relay'
      ? openRelay(peer, admission)
      : openSignal(peer, admission.token)
  }

  const open = (ws: WebSocket, socket: Duplex, ip: string, admission: Admission) => {
    const endpoint = admission.kind === 'relay' ? 'relay' : 'signal'
    const peer = createPeerSocket({ ws, socket, endpoint, ip, limits, metrics, logger })
    peers.add(peer)
    peerOf.set(ws, peer)
    metrics.connections.labels(endpoint).inc()
    ws.on('pong', onPong)
    ws.on('error', onWsError)
    const detach = attach(peer, admission)
    ws.once('close', () => {
      peer.closed()
      peers.delete(peer)
      peerOf.delete(ws)
      metrics.connections.labels(endpoint).dec()
      detach()
    })
  }

  const onSocketError = (error: Error) => logger.debug({ err: error }, 'upgrade socket error')

  /**
   * Counts the socket against its IP until it closes. Deliberately its own function: a closure
   * created inside `onUpgrade` would share that scope and keep the upgrade request (headers,
   * parser state) alive for the connection's whole life — kilobytes per idle socket.
   */
  const trackConnection = (socket: Duplex, ip: string) => {
    connectionsPerIp.set(ip, (connectionsPerIp.get(ip) ?? 0) + 1)
    socket.once('close', () => {
      const left = (connectionsPerIp.get(ip) ?? 1) - 1
      if (left <= 0) connectionsPerIp.delete(ip)
      else connectionsPerIp.set(ip, left)
    })
  }

  const refuseUpgrade = (socket: Duplex, status: number, reason: string, headers?: string) => {
    metrics.rejectedUpgrades.labels(reason).inc()
    rejectUpgrade(socket, status, headers)
  }

  const completeUpgrade = async (
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    ip: string,
    target: UpgradeTarget,
  ) => {
    const admission = await admit(target)
    if (socket.destroyed) {
      if (admission.kind === 'relay') admission.room.release()
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => open(ws, socket, ip, admission))
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', onSocketError)
    if (closing) return refuseUpgrade(socket, 503, 'closing', 'Retry-After: 1\r\n')
    const parsed = parseUpgradeRequest(request)
    if (!parsed.ok) return refuseUpgrade(socket, parsed.status, 'bad-request')
    if (!isOriginAllowed(request, options.allowedOrigins)) {
      return refuseUpgrade(socket, 403, 'origin')
    }
    const ip = clientAddress(request, proxies)
    if ((connectionsPerIp.get(ip) ?? 0) >= limits.maxConnectionsPerIp) {
      return refuseUpgrade(socket, 429, 'per-ip')
    }
    if (!acceptRate.take()) return refuseUpgrade(socket, 503, 'rate', 'Retry-After: 1\r\n')
    trackConnection(socket, ip)
    completeUpgrade(request, socket, head, ip, parsed.target).catch((error: unknown) => {
      logger.error({ err: error }, 'upgrade failed')
      socket.destroy()
    })
  }
  httpServer.on('upgrade', onUpgrade)

  // One timer for all connections: pings (dead peers dropped within ~2 intervals, R15) and
  // keepalives for idle relay clients (stock clients reconnect after 30 s of silence).
  const tickMs = Math.max(50, Math.min(limits.pingIntervalMs, limits.keepaliveMs) / 3)
  const ticker = setInterval(() => {
    const now = performance.now()
    for (const peer of peers) {
      if (now - peer.lastPongAt > 2 * limits.pingIntervalMs) {
        metrics.closes.labels('dead').inc()
        logger.info({ conn: peer.id }, 'dropping dead connection')
        peer.ws.terminate()
      } else if (now - peer.lastPingAt >= limits.pingIntervalMs && peer.open) {
        peer.lastPingAt = now
        peer.ws.ping()
      }
    }
    for (const room of registry.rooms()) room.keepAlive(now, limits.keepaliveMs)
  }, tickMs)
  ticker.unref()

  const whenClosed = (peer: PeerSocket) =>
    new Promise<void>((resolve) => {
      if (peer.ws.readyState === peer.ws.CLOSED) resolve()
      else peer.ws.once('close', () => resolve())
    })

  return {
    metrics,
    listen() {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject)
        httpServer.listen(options.port ?? 8787, host, () => {
          httpServer.off('error', reject)
          const address = httpServer.address() as AddressInfo
          const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
          bound = {
            host: address.address,
            port: address.port,
            url: `http://${shown}:${address.port}`,
          }
          logger.info(
            {
              url: bound.url,
              auth: auth !== undefined,
              scriptBundle: scriptBundle?.path ?? null,
              publicDir: publicFiles?.root ?? null,
            },
            'coedit server listening',
          )
          resolve(bound)
        })
      })
    },
    async close({ deadlineMs = 25_000 } = {}) {
      if (closing) return
      closing = true
      clearInterval(ticker)
      const started = performance.now()
      const stopped = new Promise<void>((resolve) => httpServer.close(() => resolve()))
      // Close clients first, so that nothing arrives after the final flush; their close
      // handshakes are bounded by the peer socket's grace period.
      const open = [...peers]
      for (const peer of open) peer.close('restart', 'reconnect')
      await Promise.all(open.map(whenClosed))
      const budget = Math.max(1_000, deadlineMs - (performance.now() - started))
      const flushed = await registry.flushAll(budget)
      if (!flushed) logger.error('shutdown deadline passed before storage accepted every update')
      registry.destroy()
      roomCluster?.destroy()
      signalCluster?.destroy()
      await bus?.destroy()
      commit.destroy()
      revocations?.destroy()
      await mergeWorker.destroy()
      await loadWorker.destroy()
      await storage.close()
      httpServer.closeAllConnections()
      await stopped
      logger.info({ flushed }, 'coedit server closed')
    },
    address: () => bound,
  }
}

/**
 * Prometheus metrics (prom-client) on a per-server registry — never the global default registry,
 * so several servers in one process (tests) do not share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export type Endpoint = 'relay' | 'signal'

/**
 * Per-endpoint traffic as plain numbers. Incremented on every frame, so it is not a prom-client
 * counter (whose `inc()` costs a label lookup and a few checks per call): the registry reads
 * these numbers only when `/metrics` is scraped.
 */
export interface Traffic {
  messagesIn: number
  messagesOut: number
  bytesIn: number
  bytesOut: number
}

export interface Metrics {
  readonly registry: Registry
  readonly traffic: Readonly<Record<Endpoint, Traffic>>
  readonly rooms: Gauge
  readonly connections: Gauge<'endpoint'>
  readonly persistSeconds: Histogram
  readonly persistErrors: Counter
  readonly storageLoads: Counter
  readonly compactions: Counter<'result'>
  readonly drops: Counter<'reason'>
  readonly closes: Counter<'reason'>
  readonly rejectedUpgrades: Counter<'reason'>
  readonly resyncs: Counter
}

export const createMetrics = (): Metrics => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'coedit_process_' })
  const registers = [registry]
  const traffic: Record<Endpoint, Traffic> = {
    relay: { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 },
    signal: { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 },
  }
  const trafficCounter = (name: string, help: string, field: keyof Traffic) =>
    new Counter({
      name,
      help,
      labelNames: ['endpoint'],
      registers,
      collect() {
        this.reset()
        for (const endpoint of ['relay', 'signal'] as const) {
          this.labels(endpoint).inc(traffic[endpoint][field])
        }
      },
    })
  trafficCounter('coedit_messages_in_total', 'Messages received', 'messagesIn')
  trafficCounter('coedit_messages_out_total', 'Messages sent', 'messagesOut')
  trafficCounter('coedit_bytes_in_total', 'Payload bytes received', 'bytesIn')
  trafficCounter('coedit_bytes_out_total', 'Payload bytes sent', 'bytesOut')
  return {
    registry,
    traffic,
    rooms: new Gauge({ name: 'coedit_rooms', help: 'Rooms loaded in memory', registers }),
    connections: new Gauge({
      name: 'coedit_connections',
      help: 'Open WebSocket connections',
      labelNames: ['endpoint'],
      registers,
    }),
    persistSeconds: new Histogram({
      name: 'coedit_persist_seconds',
      help: 'Latency of one group-commit flush to storage',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    persistErrors: new Counter({
      name: 'coedit_persist_errors_total',
      help: 'Failed flushes (retried)',
      registers,
    }),
    storageLoads: new Counter({
      name: 'coedit_storage_loads_total',
      help: 'Rooms loaded from storage',
      registers,
    }),
    compactions: new Counter({
      name: 'coedit_compactions_total',
      help: 'Compactions by result',
      labelNames: ['result'],
      registers,
    }),
    drops: new Counter({
      name: 'coedit_drops_total',
      help: 'Messages dropped by reason',
      labelNames: ['reason'],
      registers,
    }),
    closes: new Counter({
      name: 'coedit_closes_total',
      help: 'Connections closed by the server, by reason',
      labelNames: ['reason'],
      registers,
    }),
    rejectedUpgrades: new Counter({
      name: 'coedit_rejected_upgrades_total',
      help: 'WebSocket upgrades refused before opening, by reason',
      labelNames: ['reason'],
      registers,
    }),
    resyncs: new Counter({
      name: 'coedit_resyncs_total',
      help: 'Sync step 1 requests answered (joins and reconnects)',
      registers,
    }),
  }
}

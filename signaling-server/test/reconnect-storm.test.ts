/**
 * Reconnect storms (R14): after a restart, 1,000 clients reconnecting at once (with full-jitter
 * backoff, as the SDK does) are admitted — some after a 503 from the new-connection rate limit —
 * and all end up synced with the room's full state.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectRelay, type TestRelayClient } from './helpers/relay-client.js'
import { makeDataDir, metricValue, startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

const servers: TestServer[] = []
const clients: TestRelayClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  for (const server of servers.splice(0)) await server.close()
})

const CLIENTS = 1000
const ROOMS = 20

describe('reconnect storm', () => {
  it('admits and resyncs 1,000 clients reconnecting after a restart', async () => {
    const dataDir = makeDataDir()
    const options = {
      dataDir,
      limits: { maxConnectionsPerIp: 5000, connectionsPerSecond: 200, connectionBurst: 300 },
    }
    const first = await startServer(options)
    const port = Number(new URL(first.url).port)
    const writer = connectRelay(first.wsUrl, 'room-0', { coedit: true })
    clients.push(writer)
    await until('writer synced', () => writer.synced, [[writer.events, 'synced']])
    writer.doc.getText('t').insert(0, 'before the restart')
    await until('saved', () => writer.isSaved(), [[writer.events, 'saved']])
    await first.close({ keepData: true })

    const second = await startServer({ ...options, port })
    servers.push(second)
    // Every client "reconnects" at once, retrying refused upgrades with full-jitter backoff.
    const docs = Array.from({ length: CLIENTS }, () => new Y.Doc())
    const connect = (index: number, attempt = 0): Promise<TestRelayClient> =>
      new Promise((resolve) => {
        const client = connectRelay(second.wsUrl, `room-${index % ROOMS}`, {
          doc: docs[index] as Y.Doc,
        })
        client.ws.once('unexpected-response', () => {
          client.ws.terminate()
          const delay = Math.random() * Math.min(2000, 100 * 2 ** attempt)
          setTimeout(() => resolve(connect(index, attempt + 1)), delay)
        })
        client.ws.once('open', () => resolve(client))
      })
    const reconnected = await Promise.all(docs.map((_, index) => connect(index)))
    clients.push(...reconnected)
    await Promise.all(
      reconnected.map((client) =>
        until('synced', () => client.synced, [[client.events, 'synced']], 60_000),
      ),
    )
    expect(docs[0]?.getText('t').toString()).toBe('before the restart')
    expect(docs[ROOMS]?.getText('t').toString()).toBe('before the restart')
    // The rate limit did its job: some upgrades were turned away and retried.
    expect(
      await metricValue(second.server, 'coedit_rejected_upgrades_total', { reason: 'rate' }),
    ).toBeGreaterThan(0)
  })
})

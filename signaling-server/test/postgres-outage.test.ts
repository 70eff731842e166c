/**
 * PostgreSQL down while people edit (issue 7): the database is reached through a TCP proxy the
 * test can cut, like a network failure or a database restart. Editing continues (the other client
 * still receives the edit), the writer is told "unsaved" and /healthz says storage is failing;
 * when the database is reachable again everything is persisted without client action.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestSchema, POSTGRES_URL, requirePostgres } from './helpers/postgres.js'
import { connectRelay, type TestRelayClient } from './helpers/relay-client.js'
import { metricValue, startServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

beforeAll(requirePostgres)

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A TCP proxy to PostgreSQL on a fixed local port that can be cut and restored. */
const startProxy = async () => {
  const target = new URL(POSTGRES_URL)
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname)
        for (const socket of [client, upstream]) {
          sockets.add(socket)
          socket.on('close', () => sockets.delete(socket))
          socket.on('error', () => socket.destroy())
        }
        client.pipe(upstream).pipe(client)
      })
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        port = (server?.address() as AddressInfo).port
        resolve()
      })
    })
  await listen()
  return {
    port,
    /** Refuses new connections and drops open ones. */
    cut: async () => {
      await new Promise<void>((resolve) => {
        server?.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
    },
    restore: listen,
    close: async () => {
      await new Promise<void>((resolve) => {
        if (server?.listening === true) server.close(() => resolve())
        else resolve()
        for (const socket of sockets) socket.destroy()
      })
    },
  }
}

describe('PostgreSQL outage', () => {
  it('keeps editing with "unsaved", then persists everything when the database returns', async () => {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const proxy = await startProxy()
    cleanups.push(() => proxy.close())
    const proxied = new URL(schema.url)
    proxied.host = `127.0.0.1:${proxy.port}`
    const server = await startServer({ postgresUrl: proxied.toString() })
    cleanups.push(() => server.close())
    const clients: TestRelayClient[] = []
    cleanups.push(() => {
      for (const client of clients) client.close()
    })
    const writer = connectRelay(server.wsUrl, 'outage', { coedit: true })
    const reader = connectRelay(server.wsUrl, 'outage', { coedit: true })
    clients.push(writer, reader)
    await until('both synced', () => writer.synced && reader.synced, [
      [writer.events, 'synced'],
      [reader.events, 'synced'],
    ])
    writer.doc.getText('t').insert(0, 'before. ')
    await until('saved before the outage', () => writer.isSaved(), [[writer.events, 'saved']])

    await proxy.cut()
    writer.doc.getText('t').insert(8, 'during. ')
    await until(
      'the reader still gets the edit',
      () => reader.doc.getText('t').toString() === 'before. during. ',
      [[reader.events, 'message']],
    )
    // The commit of "during. " fails (and is retried): only then is "unsaved" a verdict. The
    // metric has no event to wait on, so it is polled.
    for (
      let attempt = 0;
      (await metricValue(server.server, 'coedit_persist_errors_total')) === 0;
      attempt++
    ) {
      if (attempt === 400) throw new Error('no failed commit while PostgreSQL was unreachable')
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    expect(writer.isSaved()).toBe(false)
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as Record<string, unknown>
    expect(health).toMatchObject({ status: 'degraded', storage: 'failing' })
    expect(writer.isSaved()).toBe(false)

    await proxy.restore()
    await until('saved after the database returned', () => writer.isSaved(), [
      [writer.events, 'saved'],
    ])
    // A second server reading the same database has every edit.
    const second = await startServer({ postgresUrl: schema.url })
    cleanups.push(() => second.close())
    const fresh = connectRelay(second.wsUrl, 'outage')
    clients.push(fresh)
    await until('the fresh client synced', () => fresh.synced, [[fresh.events, 'synced']])
    expect(fresh.doc.getText('t').toString()).toBe('before. during. ')
  })
})

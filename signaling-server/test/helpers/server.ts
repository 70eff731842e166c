/**
 * Test helpers: a real Coedit server on a free port with its own temporary SQLite directory.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type CoeditServer } from '../../src/index.js'
import type { ServerOptions } from '../../src/config.js'

export interface TestServer {
  readonly server: CoeditServer
  /** `http://127.0.0.1:port` */
  readonly url: string
  /** `ws://127.0.0.1:port` */
  readonly wsUrl: string
  readonly dataDir: string
  /** Closes the server (idempotent) and, unless `keepData`, removes its data directory. */
  close(options?: { keepData?: boolean }): Promise<void>
}

export const makeDataDir = (): string => mkdtempSync(join(tmpdir(), 'coedit-test-'))

export const startServer = async (options: ServerOptions = {}): Promise<TestServer> => {
  const dataDir = options.dataDir ?? makeDataDir()
  const server = createServer({ port: 0, logger: false, ...options, dataDir })
  const address = await server.listen()
  let closed = false
  return {
    server,
    url: address.url,
    wsUrl: address.url.replace(/^http/, 'ws'),
    dataDir,
    async close({ keepData = false } = {}) {
      if (!closed) {
        closed = true
        await server.close({ deadlineMs: 5_000 })
      }
      if (!keepData) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Reads one metric's value (summed over label sets matching `labels`) from the server. */
export const metricValue = async (
  server: CoeditServer,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> => {
  const metric = await server.metrics.registry.getSingleMetric(name)?.get()
  if (metric === undefined) throw new Error(`no metric ${name}`)
  return metric.values
    .filter((value) =>
      Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected),
    )
    .reduce((sum, value) => sum + value.value, 0)
}

/**
 * Test helpers for the Redis bus: the shared Redis (127.0.0.1:6379, or `COEDIT_TEST_REDIS_URL`),
 * checked up front so that tests fail — never skip — when it is unreachable, and private
 * `redis-server` processes on a free port that a test may kill and restart.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { createClient } from 'redis'

export const SHARED_REDIS_URL = process.env['COEDIT_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379'

/** Throws a message naming the fix unless Redis answers PING at `url`. */
export const requireRedis = async (url: string = SHARED_REDIS_URL): Promise<void> => {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 2_000 } })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    throw new Error(
      `Redis is required at ${url} (start redis-server, or set COEDIT_TEST_REDIS_URL): ${String(error)}`,
    )
  } finally {
    if (client.isOpen) await client.close()
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export interface PrivateRedis {
  readonly url: string
  readonly port: number
  /** Kills the process (SIGKILL: an outage, not a shutdown) and waits for it to exit. */
  kill(): Promise<void>
  /** Starts it again on the same port (empty: nothing is saved). */
  restart(): Promise<void>
}

/** A `redis-server` of our own on a free port, without persistence. */
export const startPrivateRedis = async (): Promise<PrivateRedis> => {
  const port = await freePort()
  let child: ChildProcess | null = null
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const spawned = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      child = spawned
      let output = ''
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          spawned.stdout.off('data', onData)
          resolve()
        }
      }
      spawned.stdout.on('data', onData)
      spawned.once('error', reject)
      spawned.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)))
    })
  const kill = async () => {
    const running = child
    child = null
    if (running === null || running.exitCode !== null) return
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
    running.kill('SIGKILL')
    await exited
  }
  await start()
  return { url: `redis://127.0.0.1:${port}`, port, kill, restart: start }
}

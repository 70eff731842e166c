/**
 * The servers under test, each started as its own child process on a free loopback port so that
 * its CPU time and RSS can be read from `/proc/<pid>` without counting the load generator.
 *
 * - `coedit`: this repository's CLI (`signaling-server/bin/coedit-server.js`, built by
 *   `tsc -b signaling-server`) with a fresh SQLite data directory and the per-IP and
 *   connection-rate limits raised so that one load-generator IP may open every connection.
 * - `y-websocket`: `@y/websocket-server@0.1.1`'s `setupWSConnection`, in memory
 *   (`launch-y-websocket.js`).
 * - `hocuspocus`: `@hocuspocus/server` in memory, no extensions (`launch-hocuspocus.js`).
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { get } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Dialect } from './protocol.js'

export const SERVER_NAMES = ['coedit', 'y-websocket', 'hocuspocus'] as const
export type ServerName = (typeof SERVER_NAMES)[number]

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
export const ROOT_DIR = dirname(BENCH_DIR)
export const PROFILE_DIR = join(BENCH_DIR, 'results', 'profiles')

const HOST = '127.0.0.1'

export interface ServerInfo {
  readonly name: ServerName
  /** Package and version, for the results table. */
  readonly label: string
  readonly dialect: Dialect
}

export interface ProcessStats {
  /** User + system CPU time of the whole process (all threads), ms. */
  readonly cpuMs: number
  /** Resident set size, KiB. */
  readonly rssKb: number
}

export interface RunningServer {
  readonly info: ServerInfo
  readonly pid: number
  readonly port: number
  /** WebSocket URL for one room (Hocuspocus names the document inside each frame instead). */
  url(room: string): string
  stats(): ProcessStats
  /** Whether the process is still running. */
  readonly alive: boolean
  /** SIGTERM, then SIGKILL after 10 s; removes the temporary data directory. */
  stop(): Promise<void>
}

const packageVersion = (packageJson: string): string =>
  (JSON.parse(readFileSync(join(ROOT_DIR, packageJson), 'utf8')) as { version: string }).version

export const serverInfo = (name: ServerName): ServerInfo => {
  switch (name) {
    case 'coedit':
      return {
        name,
        label: `Coedit ${packageVersion('signaling-server/package.json')}`,
        dialect: 'y-websocket',
      }
    case 'y-websocket':
      return {
        name,
        label: `@y/websocket-server ${packageVersion('node_modules/@y/websocket-server/package.json')}`,
        dialect: 'y-websocket',
      }
    case 'hocuspocus':
      return {
        name,
        label: `@hocuspocus/server ${packageVersion('node_modules/@hocuspocus/server/package.json')}`,
        dialect: 'hocuspocus',
      }
  }
}

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch (error) {
    process.stderr.write(`getconf CLK_TCK failed (${String(error)}); assuming 100\n`)
    return 100
  }
})()

/** CPU (utime + stime) and RSS of a process, from `/proc/<pid>/stat` and `/proc/<pid>/status`. */
export const processStats = (pid: number): ProcessStats => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after "(comm)": state is field 3, utime field 14, stime field 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status)
  return {
    cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND,
    rssKb: rss === null ? Number.NaN : Number(rss[1]),
  }
}

/** Busy CPU time of the whole machine (all cores), ms, from the first line of `/proc/stat`. */
export const machineBusyMs = (): number => {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
  // cpu user nice system idle iowait irq softirq steal …
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .split(/\s+/)
    .slice(1)
    .map(Number)
  return ((user + nice + system + irq + softirq + steal) * 1000) / CLOCK_TICKS_PER_SECOND
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, HOST, () => {
      const address = probe.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls an HTTP path until the server answers (any status). */
const waitForHttp = async (
  port: number,
  path: string,
  timeoutMs: number,
  exited: () => boolean,
) => {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (exited()) throw new Error('server exited during start-up')
    const answered = await new Promise<boolean>((resolve) => {
      const request = get({ host: HOST, port, path, timeout: 1_000 }, (response) => {
        response.resume()
        resolve(true)
      })
      request.on('error', () => resolve(false))
      request.on('timeout', () => {
        request.destroy()
        resolve(false)
      })
    })
    if (answered) return
    await sleep(100)
  }
  throw new Error(`server on port ${port} did not answer within ${timeoutMs} ms`)
}

export const startServer = async (
  name: ServerName,
  options: { profile?: boolean } = {},
): Promise<RunningServer> => {
  const info = serverInfo(name)
  const port = await freePort()
  let dataDir: string | undefined
  let script: string
  let args: string[]
  let readyPath = '/'
  switch (name) {
    case 'coedit':
      dataDir = mkdtempSync(join(tmpdir(), 'coedit-bench-'))
      script = join(ROOT_DIR, 'signaling-server', 'bin', 'coedit-server.js')
      args = [
        '--port',
        String(port),
        '--data',
        dataDir,
        '--max-connections-per-ip',
        '100000',
        '--connections-per-second',
        '100000',
      ]
      readyPath = '/healthz'
      break
    case 'y-websocket':
      script = join(BENCH_DIR, 'launch-y-websocket.js')
      args = [String(port)]
      break
    case 'hocuspocus':
      script = join(BENCH_DIR, 'launch-hocuspocus.js')
      args = [String(port)]
      break
  }
  const nodeFlags: string[] = []
  if (options.profile === true) {
    mkdirSync(PROFILE_DIR, { recursive: true })
    nodeFlags.push(
      '--cpu-prof',
      `--cpu-prof-dir=${PROFILE_DIR}`,
      `--cpu-prof-name=${name}-${port}.cpuprofile`,
    )
  }
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], {
    cwd: ROOT_DIR,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000)
  })
  let exited = false
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true
      resolve()
    }),
  )
  const cleanUp = () => {
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    await waitForHttp(port, readyPath, 15_000, () => exited)
  } catch (error) {
    child.kill('SIGKILL')
    await exit
    cleanUp()
    throw new Error(`${info.label} failed to start: ${String(error)}\n${stderr}`)
  }
  const pid = child.pid
  if (pid === undefined) throw new Error(`${info.label}: no pid`)
  return {
    info,
    pid,
    port,
    url: (room) =>
      info.dialect === 'hocuspocus'
        ? `ws://${HOST}:${port}/`
        : `ws://${HOST}:${port}/relay/${encodeURIComponent(room)}`,
    stats: () => processStats(pid),
    get alive() {
      return !exited
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exit
        clearTimeout(timer)
      }
      cleanUp()
    },
  }
}

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
 * - `coedit-memory` (diagnostic, not run by default): Coedit's `createServer` with an in-memory
 *   storage instead of SQLite (`launch-coedit-memory.js`), to separate relay from persistence.
 * - `floor` (diagnostic, not run by default): the cheapest relay that serves the load
 *   (`launch-floor.js`): raw `node:http` upgrade and frame parsing, no `ws`, no Yjs document; each
 *   message is forwarded as one frame built once, one `socket.write` per other socket in the room.
 *   It measures the floor of CPU per delivery on this machine.
 */
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { get } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { sleep } from './async.js'
import type { Dialect } from './protocol.js'

export const SERVER_NAMES = [
  'coedit',
  'y-websocket',
  'hocuspocus',
  'coedit-memory',
  'floor',
] as const
export type ServerName = (typeof SERVER_NAMES)[number]
/** The servers the issue compares; `coedit-memory` and `floor` are diagnostics. */
export const DEFAULT_SERVERS: readonly ServerName[] = ['coedit', 'y-websocket', 'hocuspocus']

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
export const ROOT_DIR = dirname(BENCH_DIR)
export const PROFILE_DIR = join(BENCH_DIR, 'results', 'profiles')

const HOST = '127.0.0.1'

/**
 * A frozen copy of Coedit's build (`signaling-server/{bin,dist}` and `@coedit/sdk`'s `dist`) under
 * `bench/results/`, so that every round runs the same code even if the build is redone while the
 * benchmark runs. Packages other than `@coedit/sdk` still resolve from the repository's
 * `node_modules`. `fingerprint` identifies the build in the results.
 */
export interface CoeditBuild {
  /** `bin/coedit-server.js` of the copy. */
  readonly cli: string
  /** `dist/index.js` of the copy (the public API). */
  readonly api: string
  readonly fingerprint: string
  remove(): void
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()

export const snapshotCoeditBuild = (): CoeditBuild => {
  const dir = join(BENCH_DIR, 'results', `coedit-build-${process.pid}`)
  rmSync(dir, { recursive: true, force: true })
  const server = join(dir, 'server')
  const sdk = join(dir, 'node_modules', '@coedit', 'sdk')
  for (const part of ['bin', 'dist', 'package.json']) {
    cpSync(join(ROOT_DIR, 'signaling-server', part), join(server, part), { recursive: true })
  }
  for (const part of ['dist', 'package.json']) {
    cpSync(join(ROOT_DIR, 'sdk', part), join(sdk, part), { recursive: true })
  }
  const hash = createHash('sha256')
  for (const file of [...filesUnder(join(server, 'dist')), ...filesUnder(join(sdk, 'dist'))]) {
    if (file.endsWith('.js')) hash.update(readFileSync(file))
  }
  return {
    cli: join(server, 'bin', 'coedit-server.js'),
    api: join(server, 'dist', 'index.js'),
    fingerprint: hash.digest('hex').slice(0, 8),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

export interface ServerInfo {
  readonly name: ServerName
  /** Package and version, for the results table. */
  readonly label: string
  readonly dialect: Dialect
  /**
   * Whether the server keeps each room's document, so that a fresh socket syncs to it. False for
   * `floor`, which only forwards: the load generator skips that correctness check for it.
   */
  readonly keepsDocument: boolean
}

export interface ProcessStats {
  /** User + system CPU time of the whole process (all threads), ms. */
  readonly cpuMs: number
  /** The system (kernel) part of it, ms: mostly socket reads and writes. */
  readonly sysMs: number
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

/** `version` of a package.json, by its path from the repository root: for labels in results. */
export const packageVersion = (packageJson: string): string =>
  (JSON.parse(readFileSync(join(ROOT_DIR, packageJson), 'utf8')) as { version: string }).version

export const serverInfo = (name: ServerName): ServerInfo => {
  switch (name) {
    case 'coedit':
      return {
        name,
        label: `Coedit ${packageVersion('signaling-server/package.json')}`,
        dialect: 'y-websocket',
        keepsDocument: true,
      }
    case 'y-websocket':
      return {
        name,
        label: `@y/websocket-server ${packageVersion('node_modules/@y/websocket-server/package.json')}`,
        dialect: 'y-websocket',
        keepsDocument: true,
      }
    case 'hocuspocus':
      return {
        name,
        label: `@hocuspocus/server ${packageVersion('node_modules/@hocuspocus/server/package.json')}`,
        dialect: 'hocuspocus',
        keepsDocument: true,
      }
    case 'coedit-memory':
      return {
        name,
        label: `Coedit ${packageVersion('signaling-server/package.json')}, in-memory storage`,
        dialect: 'y-websocket',
        keepsDocument: true,
      }
    case 'floor':
      return {
        name,
        label: 'floor (diagnostic: raw node:http relay, no document)',
        dialect: 'y-websocket',
        keepsDocument: false,
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
  const userTicks = Number(fields[11])
  const sysTicks = Number(fields[12])
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status)
  return {
    cpuMs: ((userTicks + sysTicks) * 1000) / CLOCK_TICKS_PER_SECOND,
    sysMs: (sysTicks * 1000) / CLOCK_TICKS_PER_SECOND,
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
  options: {
    /** Run this frozen copy of Coedit (default: the build in the working tree). */
    coedit?: CoeditBuild
    profile?: boolean
    coeditArgs?: readonly string[]
    nodeFlags?: readonly string[]
  } = {},
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
      script = options.coedit?.cli ?? join(ROOT_DIR, 'signaling-server', 'bin', 'coedit-server.js')
      args = [
        '--port',
        String(port),
        '--data',
        dataDir,
        '--max-connections-per-ip',
        '100000',
        '--connections-per-second',
        '100000',
        ...(options.coeditArgs ?? []),
      ]
      readyPath = '/healthz'
      break
    case 'coedit-memory':
      script = join(BENCH_DIR, 'launch-coedit-memory.js')
      args = [
        String(port),
        pathToFileURL(options.coedit?.api ?? join(ROOT_DIR, 'signaling-server', 'dist', 'index.js'))
          .href,
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
    case 'floor':
      script = join(BENCH_DIR, 'launch-floor.js')
      args = [String(port)]
      break
  }
  const nodeFlags: string[] = [...(options.nodeFlags ?? [])]
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

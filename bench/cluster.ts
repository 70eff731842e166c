/**
 * Scale-out benchmark: 1, 2 or 3 `coedit-server` child processes sharing one Redis (fan-out) and
 * one PostgreSQL schema (storage), R rooms × C WebSocket clients per room spread evenly over the
 * instances, W writers per room typing small Y.Text inserts at a fixed rate. Measures, per
 * configuration and round:
 *
 * - fan-out latency of every delivery (send time inside the inserted text, arrival timed in this
 *   same process: one clock), split by whether the reader is on the writer's instance or on
 *   another one: the cross-instance overhead, within one run;
 * - aggregate delivered updates/s at the fixed offered load, the CPU of every instance (from
 *   /proc/<pid>/stat), of Redis (`INFO cpu`) and of this run's PostgreSQL backends;
 * - correctness: every reader got every insert once, all instances serve the same text, and a
 *   fresh instance reading PostgreSQL after the run serves it too.
 *
 * Configurations are interleaved (1 2 3 1 2 3 …) and medians over rounds reported; see the
 * "Several instances" section of bench/README.md for the method.
 *
 *   npm run bench:cluster -- [--instances 1,2,3] [--rooms 100] [--clients 10] [--writers 2]
 *                            [--rate 5] [--warmup 4] [--seconds 15] [--rounds 3] [--write-readme]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createClient } from 'redis'
import { sleep } from './async.js'
import { integer, parseFlags, positive, runMain } from './cli.js'
import { fixed, mark, ratio, thousands } from './format.js'
import { checkRooms, freshMismatches, Problems } from './load-checks.js'
import { describeLoad, LoadClients, Measurement, type RoomState } from './load-client.js'
import { describeMachine, waitForQuiet } from './machine.js'
import { createCodec } from './protocol.js'
import { commandLine, measuredLine, reproduceLines, saveResults } from './report.js'
import {
  ROOT_DIR,
  machineBusyMs,
  processStats,
  snapshotCoeditBuild,
  type CoeditBuild,
} from './servers.js'
import { median, quantile, Samples } from './stats.js'

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  readonly instances: readonly number[]
  readonly rooms: number
  readonly clients: number
  readonly writers: number
  /** Updates per second per writer. */
  readonly rate: number
  readonly insertBytes: number
  readonly warmupMs: number
  readonly durationMs: number
  readonly settleMs: number
  readonly rounds: number
  /** Awareness renewal period per client (y-protocols renews every 15 s). */
  readonly awarenessMs: number
  readonly redisUrl: string
  /** Database the benchmark creates one fresh schema per run in. */
  readonly postgresUrl: string
  /** Longest wait, before each run, for other processes to leave the cores alone. */
  readonly quietWaitMs: number
  /** Repeat a run during which other processes used more than this share of a core, %. */
  readonly maxOthersPct: number
  /** Attempts per run in all (the last one is kept). */
  readonly attempts: number
  readonly writeReadme: boolean
}

const USAGE = `Usage: npm run bench:cluster -- [options]
  --instances <a,b>     instance counts to compare, interleaved (default 1,2,3)
  --rooms <n>           rooms (default 100)
  --clients <n>         sockets per room, spread evenly over the instances (default 10)
  --writers <n>         writers per room (default 2)
  --rate <n>            updates per second per writer (default 5)
  --insert-bytes <n>    size of each Y.Text insert (default 25)
  --warmup <s>          discarded warm-up (default 4)
  --seconds <s>         measured phase (default 15)
  --settle <s>          idle wait after every socket synced (default 2)
  --rounds <n>          interleaved rounds (default 3)
  --redis <url>         Redis shared by the instances (default redis://127.0.0.1:6379)
  --postgres <url>      PostgreSQL database; every run gets a fresh schema in it, dropped
                        afterwards (default postgres://postgres@127.0.0.1:5432/test)
  --quiet-wait <s>      before each run, wait up to this long for other processes to use
                        < 30 % of a core (default 10; the machine is shared)
  --max-others <%>      repeat a run during which other processes used more than this share
                        of a core (default 30) ...
  --attempts <n>        ... up to this many times in all, keeping the last (default 2)
  --write-readme        write the results into bench/README.md (between the bench:cluster markers)
  --help                this text
`

const parseOptions = (argv: readonly string[]): Options => {
  const values = parseFlags(
    argv,
    {
      instances: { type: 'string', default: '1,2,3' },
      rooms: { type: 'string', default: '100' },
      clients: { type: 'string', default: '10' },
      writers: { type: 'string', default: '2' },
      rate: { type: 'string', default: '5' },
      'insert-bytes': { type: 'string', default: '25' },
      warmup: { type: 'string', default: '4' },
      seconds: { type: 'string', default: '15' },
      settle: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
      postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
      'quiet-wait': { type: 'string', default: '10' },
      'max-others': { type: 'string', default: '30' },
      attempts: { type: 'string', default: '2' },
      'write-readme': { type: 'boolean', default: false },
    },
    USAGE,
  )
  const instances = values.instances
    .split(',')
    .filter(Boolean)
    .map((text) => integer('instances', text))
  if (instances.length === 0) throw new Error('--instances: give at least one count')
  const clients = integer('clients', values.clients)
  const writers = integer('writers', values.writers)
  if (writers >= clients) throw new Error('--writers must be less than --clients (readers needed)')
  const quietWait = Number(values['quiet-wait'])
  if (!Number.isFinite(quietWait) || quietWait < 0) throw new Error('--quiet-wait must be >= 0')
  return {
    instances,
    rooms: integer('rooms', values.rooms),
    clients,
    writers,
    rate: positive('rate', values.rate),
    insertBytes: integer('insert-bytes', values['insert-bytes']),
    warmupMs: positive('warmup', values.warmup) * 1000,
    durationMs: positive('seconds', values.seconds) * 1000,
    settleMs: positive('settle', values.settle) * 1000,
    rounds: integer('rounds', values.rounds),
    awarenessMs: 15_000,
    redisUrl: values.redis,
    postgresUrl: values.postgres,
    quietWaitMs: quietWait * 1000,
    maxOthersPct: positive('max-others', values['max-others']),
    attempts: integer('attempts', values.attempts),
    writeReadme: values['write-readme'],
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL schemas and Redis, for the runs and for their CPU figures

/** Runs one statement on a short-lived connection of its own. */
const adminQuery = async <R extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end()
  }
}

interface Schema {
  /** `coedit_bench_<random>`, also the `application_name` of the instances' connections. */
  readonly name: string
  /** The database URL with this schema as `search_path`, for `--postgres`. */
  readonly url: string
}

/** Schemas created and not yet dropped: dropped on the way out, also after an error. */
const liveSchemas = new Set<string>()

const createSchema = async (baseUrl: string): Promise<Schema> => {
  const name = `coedit_bench_${randomBytes(6).toString('hex')}`
  await adminQuery(baseUrl, `CREATE SCHEMA ${name}`)
  liveSchemas.add(name)
  const url = new URL(baseUrl)
  url.searchParams.set('options', `-c search_path=${name}`)
  url.searchParams.set('application_name', name)
  return { name, url: url.toString() }
}

const dropSchema = async (baseUrl: string, name: string) => {
  await adminQuery(baseUrl, `DROP SCHEMA IF EXISTS ${name} CASCADE`)
  liveSchemas.delete(name)
}

/** CPU ms of this run's PostgreSQL backends (found by `application_name`), by pid. */
const postgresBackendsCpu = async (
  baseUrl: string,
  schema: string,
): Promise<Map<number, number>> => {
  const rows = await adminQuery<{ pid: number }>(
    baseUrl,
    'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
    [schema],
  )
  const cpu = new Map<number, number>()
  for (const { pid } of rows) {
    try {
      cpu.set(pid, processStats(pid).cpuMs)
    } catch {
      // The backend exited between the query and the read (or runs in another PID namespace):
      // not counted.
    }
  }
  return cpu
}

/** Backend CPU between two readings; backends that appeared in between count from zero. */
const backendsCpuBetween = (start: Map<number, number>, end: Map<number, number>): number => {
  let total = 0
  for (const [pid, ms] of end) total += ms - (start.get(pid) ?? 0)
  return total
}

type RedisClient = ReturnType<typeof createClient>

/** User + system CPU of the whole redis-server process, ms (`INFO cpu`). */
const redisCpuMs = async (redis: RedisClient): Promise<number> => {
  const info = await redis.info('cpu')
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1])
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000
}

// ---------------------------------------------------------------------------------------------
// Server instances

interface Instance {
  readonly index: number
  readonly pid: number
  /** `http://127.0.0.1:<port>` as the server printed it. */
  readonly url: string
  wsUrl(room: string): string
  readonly alive: boolean
  /** SIGTERM (graceful: closes clients, flushes storage), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>
}

/** Every child process started and not yet exited: killed on the way out, also after an error. */
const liveChildren = new Set<ChildProcess>()

const startInstance = async (
  build: CoeditBuild,
  index: number,
  postgresUrl: string,
  redisUrl: string | undefined,
): Promise<Instance> => {
  const args = [
    build.cli,
    '--port',
    '0',
    '--postgres',
    postgresUrl,
    ...(redisUrl === undefined ? [] : ['--redis', redisUrl]),
    '--max-connections-per-ip',
    '100000',
    '--connections-per-second',
    '100000',
  ]
  const child = spawn(process.execPath, args, {
    cwd: ROOT_DIR,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  })
  liveChildren.add(child)
  let exited = false
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true
      liveChildren.delete(child)
      resolve()
    }),
  )
  let stderr = ''
  child.stderr.setEncoding('utf8')
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance ${index}: no URL printed`)), 20_000)
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000)
      const printed = /Coedit server running at (http:\/\/\S+)/.exec(stderr)?.[1]
      if (printed === undefined) return
      clearTimeout(timer)
      resolve(printed)
    })
    void exit.then(() => {
      clearTimeout(timer)
      reject(new Error(`instance ${index} exited before listening:\n${stderr}`))
    })
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL')
    await exit
    throw error
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`instance ${index}: no pid`)
  const wsBase = url.replace(/^http/, 'ws').replace(/\/$/, '')
  return {
    index,
    pid,
    url,
    wsUrl: (room) => `${wsBase}/relay/${encodeURIComponent(room)}`,
    get alive() {
      return !exited
    },
    async stop(graceMs = 30_000) {
      if (exited) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exit
      clearTimeout(timer)
    },
  }
}

/** Waits until `/healthz` says storage ok (and Redis up, when the instance uses it). */
const waitHealthy = async (instance: Instance, timeoutMs = 20_000) => {
  const deadline = performance.now() + timeoutMs
  let last = ''
  while (performance.now() < deadline) {
    if (!instance.alive) throw new Error(`instance ${instance.index} exited during start-up`)
    try {
      const response = await fetch(`${instance.url.replace(/\/$/, '')}/healthz`)
      last = await response.text()
      const health = JSON.parse(last) as { status?: string }
      if (health.status === 'ok') return
    } catch (error) {
      last = String(error)
    }
    await sleep(100)
  }
  throw new Error(`instance ${instance.index} not healthy within ${timeoutMs} ms: ${last}`)
}

const killEverything = () => {
  for (const child of liveChildren) child.kill('SIGKILL')
}

// ---------------------------------------------------------------------------------------------
// Correctness

interface Correctness {
  readonly ok: boolean
  readonly problems: readonly string[]
}

/**
 * While the instances still run: the checks of load-checks.ts, and a fresh socket on every
 * instance syncs to each room's text. Returns the expected text of every room.
 */
const checkLive = async (
  instances: readonly Instance[],
  rooms: readonly RoomState[],
  writersPerRoom: number,
  problems: Problems,
): Promise<Map<RoomState, string>> => {
  const texts = checkRooms(rooms, writersPerRoom, problems, 'writers differ')
  const fresh = instances.flatMap((instance) =>
    rooms.map((room) => ({
      room,
      url: instance.wsUrl(room.name),
      where: `${room.name} on instance ${instance.index}`,
    })),
  )
  const mismatches = await freshMismatches(fresh, texts, problems)
  if (mismatches > 0) {
    problems.note(`${mismatches} room × instance pairs: a fresh socket synced to another text`)
  }
  return texts
}

/** After the instances stopped: a new instance reading PostgreSQL serves every room's text. */
const checkStored = async (
  build: CoeditBuild,
  schema: Schema,
  rooms: readonly RoomState[],
  texts: Map<RoomState, string>,
  problems: Problems,
) => {
  const verifier = await startInstance(build, 99, schema.url, undefined)
  try {
    await waitHealthy(verifier)
    const fresh = rooms.map((room) => ({
      room,
      url: verifier.wsUrl(room.name),
      where: `${room.name} from PostgreSQL`,
    }))
    const mismatches = await freshMismatches(fresh, texts, problems)
    if (mismatches > 0) problems.note(`${mismatches} rooms: PostgreSQL holds another text`)
  } finally {
    await verifier.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// One run: n instances, the load spread evenly over them

interface LatencyFigures {
  readonly count: number
  readonly p50: number
  readonly p99: number
}

interface RunResult {
  readonly instances: number
  readonly round: number
  /** 1 unless earlier attempts were discarded because the machine was busy. */
  readonly attempt: number
  readonly sentPerS: number
  readonly deliveriesPerS: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly same: LatencyFigures
  readonly cross: LatencyFigures
  /** CPU of each instance over the measured phase, % of one core. */
  readonly instanceCpuPct: readonly number[]
  readonly totalCpuPct: number
  /** All instances' CPU per 1,000 deliveries, ms. */
  readonly cpuMsPer1000: number
  /** The whole redis-server (shared: anything else using it counts too), % of a core. */
  readonly redisCpuPct: number
  /** This run's PostgreSQL backends, % of a core. */
  readonly postgresCpuPct: number
  readonly loadgenCpuPct: number
  /** Everything else on the machine during the measured phase, % of a core. */
  readonly otherCpuPct: number
  readonly correctness: Correctness
}

const latencyFigures = (samples: Samples): LatencyFigures => {
  const sorted = samples.sorted()
  return { count: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) }
}

const runOnce = async (
  count: number,
  round: number,
  attempt: number,
  options: Options,
  build: CoeditBuild,
  redis: RedisClient,
): Promise<RunResult> => {
  if (options.quietWaitMs > 0) await waitForQuiet(options.quietWaitMs)
  const schema = await createSchema(options.postgresUrl)
  const instances: Instance[] = []
  // Client c of room r connects to instance (r + c) mod n: every instance gets the same number
  // of sockets and writers overall, and every room has readers on every instance.
  const instanceOf = (room: number, client: number) => (room + client) % count
  const all = new Samples()
  /** Deliveries to a reader on the writer's own instance. */
  const same = new Samples()
  /** Deliveries to a reader on another instance (through Redis). */
  const cross = new Samples()
  const run = new Measurement((latency, reader, writer) => {
    all.push(latency)
    const room = reader.room.index
    const sameInstance = instanceOf(room, writer) === instanceOf(room, reader.index)
    ;(sameInstance ? same : cross).push(latency)
  }, false)
  let clients: LoadClients | undefined
  try {
    const started = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        startInstance(build, index, schema.url, options.redisUrl),
      ),
    )
    instances.push(...started)
    await Promise.all(instances.map((instance) => waitHealthy(instance)))

    clients = new LoadClients(
      options,
      (r) => `cluster-${r}`,
      (room) => createCodec('y-websocket', room),
      run,
    )
    await clients.connect(
      (client) => {
        const index = instanceOf(client.room.index, client.index)
        const instance = instances[index]
        if (instance === undefined) throw new Error(`no instance ${index}`)
        return instance.wsUrl(client.room.name)
      },
      (client) => `client sync on instance ${instanceOf(client.room.index, client.index)}`,
    )
    clients.startAwareness(options.awarenessMs)
    await sleep(options.settleMs)

    clients.startWriters(options.rate, options.insertBytes)

    await sleep(options.warmupMs)
    // Redis and PostgreSQL are read over the network: before the window opens and after it
    // closes, so that the local readings below bound the window tightly.
    const redisStart = await redisCpuMs(redis)
    const postgresStart = await postgresBackendsCpu(options.postgresUrl, schema.name)
    run.open()
    const cpuStart = instances.map((instance) => processStats(instance.pid).cpuMs)
    const machineStart = machineBusyMs()
    const loadgenStart = process.cpuUsage()
    const sentStart = clients.sentCount()
    await sleep(options.durationMs)
    const cpuEnd = instances.map((instance) => processStats(instance.pid).cpuMs)
    const loadgenCpu = process.cpuUsage(loadgenStart)
    const machineMs = machineBusyMs() - machineStart
    const measuredMs = run.close()
    const redisEnd = await redisCpuMs(redis)
    const postgresEnd = await postgresBackendsCpu(options.postgresUrl, schema.name)
    clients.stopWriters()
    const sentInWindow = clients.sentCount() - sentStart

    await clients.drain()
    for (const instance of instances) {
      if (!instance.alive) throw new Error(`instance ${instance.index} exited during the run`)
    }

    const problems = new Problems()
    const texts = await checkLive(instances, clients.rooms, options.writers, problems)
    clients.close()
    await Promise.all(instances.map((instance) => instance.stop()))
    await checkStored(build, schema, clients.rooms, texts, problems)

    const instanceCpuMs = cpuEnd.map((end, index) => end - (cpuStart[index] ?? 0))
    const totalCpuMs = instanceCpuMs.reduce((sum, ms) => sum + ms, 0)
    const redisMs = redisEnd - redisStart
    const postgresMs = backendsCpuBetween(postgresStart, postgresEnd)
    const loadgenMs = (loadgenCpu.user + loadgenCpu.system) / 1000
    const pct = (ms: number) => (ms / measuredMs) * 100
    const sorted = all.sorted()
    return {
      instances: count,
      round,
      attempt,
      sentPerS: (sentInWindow * 1000) / measuredMs,
      deliveriesPerS: (sorted.length * 1000) / measuredMs,
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      p99: quantile(sorted, 0.99),
      max: quantile(sorted, 1),
      same: latencyFigures(same),
      cross: latencyFigures(cross),
      instanceCpuPct: instanceCpuMs.map(pct),
      totalCpuPct: pct(totalCpuMs),
      cpuMsPer1000: sorted.length === 0 ? Number.NaN : (totalCpuMs * 1000) / sorted.length,
      redisCpuPct: pct(redisMs),
      postgresCpuPct: pct(postgresMs),
      loadgenCpuPct: pct(loadgenMs),
      otherCpuPct: Math.max(0, pct(machineMs - totalCpuMs - loadgenMs - redisMs - postgresMs)),
      correctness: { ok: problems.count === 0, problems: problems.list },
    }
  } finally {
    clients?.close()
    await Promise.all(instances.map((instance) => instance.stop(5_000)))
    await dropSchema(options.postgresUrl, schema.name)
  }
}

// ---------------------------------------------------------------------------------------------
// Summaries

interface Summary {
  readonly instances: number
  readonly runs: readonly RunResult[]
  readonly deliveriesPerS: number
  readonly p50: number
  readonly p99: number
  readonly sameP50: number
  readonly sameP99: number
  readonly crossP50: number
  readonly crossP99: number
  /** Median over runs of (cross − same) in that run. */
  readonly extraP50: number
  readonly extraP99: number
  /** Median over runs of the mean instance's CPU. */
  readonly perInstanceCpuPct: number
  /** Median over runs of the busiest instance's CPU. */
  readonly busiestCpuPct: number
  readonly totalCpuPct: number
  readonly cpuMsPer1000: number
  readonly redisCpuPct: number
  readonly postgresCpuPct: number
  readonly loadgenCpuPct: number
  readonly otherCpuPct: number
  /** Deliveries/s at which the busiest instance would fill one core, extrapolated linearly. */
  readonly ceilingPerS: number
  readonly correct: number
}

const summarize = (instances: number, runs: readonly RunResult[]): Summary => {
  const of = (pick: (run: RunResult) => number) => median(runs.map(pick))
  const mean = (values: readonly number[]) =>
    values.reduce((sum, value) => sum + value, 0) / values.length
  return {
    instances,
    runs,
    deliveriesPerS: of((run) => run.deliveriesPerS),
    p50: of((run) => run.p50),
    p99: of((run) => run.p99),
    sameP50: of((run) => run.same.p50),
    sameP99: of((run) => run.same.p99),
    crossP50: of((run) => run.cross.p50),
    crossP99: of((run) => run.cross.p99),
    extraP50: of((run) => run.cross.p50 - run.same.p50),
    extraP99: of((run) => run.cross.p99 - run.same.p99),
    perInstanceCpuPct: of((run) => mean(run.instanceCpuPct)),
    busiestCpuPct: of((run) => Math.max(...run.instanceCpuPct)),
    totalCpuPct: of((run) => run.totalCpuPct),
    cpuMsPer1000: of((run) => run.cpuMsPer1000),
    redisCpuPct: of((run) => run.redisCpuPct),
    postgresCpuPct: of((run) => run.postgresCpuPct),
    loadgenCpuPct: of((run) => run.loadgenCpuPct),
    otherCpuPct: of((run) => run.otherCpuPct),
    ceilingPerS: of((run) => (run.deliveriesPerS * 100) / Math.max(...run.instanceCpuPct)),
    correct: runs.filter((run) => run.correctness.ok).length,
  }
}

const P99_TARGET_MS = 15

const loadTitle = (options: Options) => describeLoad(options, options.rate, thousands)

const throughputTable = (summaries: readonly Summary[]): string => {
  const one = summaries.find((summary) => summary.instances === 1)
  const lines = [
    '| instances | delivered updates/s | p50 / p99 ms | CPU per instance, % of a core | all instances, % of a core | CPU ms per 1,000 deliveries | vs 1 instance | Redis CPU % | PostgreSQL backends CPU % | load generator CPU % | other processes CPU % | extrapolated ceiling, one core per instance | correct runs |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const summary of summaries) {
    lines.push(
      `| ${summary.instances} | ${thousands(summary.deliveriesPerS)} | ` +
        `${fixed(summary.p50, 2)} / ${fixed(summary.p99, 2)} | ` +
        `${fixed(summary.perInstanceCpuPct, 1)} % (busiest ${fixed(summary.busiestCpuPct, 1)}) | ` +
        `${fixed(summary.totalCpuPct, 1)} % | ${fixed(summary.cpuMsPer1000, 1)} | ` +
        `${ratio(summary.cpuMsPer1000, one?.cpuMsPer1000)} | ${fixed(summary.redisCpuPct, 1)} | ` +
        `${fixed(summary.postgresCpuPct, 1)} | ${fixed(summary.loadgenCpuPct, 0)} | ` +
        `${fixed(summary.otherCpuPct, 0)} | ≈ ${thousands(summary.ceilingPerS)}/s | ` +
        `${summary.correct}/${summary.runs.length} |`,
    )
  }
  return lines.join('\n')
}

const latencyTable = (summaries: readonly Summary[]): string => {
  const lines = [
    '| instances | same instance p50 / p99 ms | other instance p50 / p99 ms | extra p50 / p99 ms | deliveries measured, same / other (one run) |',
    '|---:|---:|---:|---:|---:|',
  ]
  for (const summary of summaries) {
    const first = summary.runs[0]
    lines.push(
      `| ${summary.instances} | ${fixed(summary.sameP50, 2)} / ${fixed(summary.sameP99, 2)} | ` +
        `${fixed(summary.crossP50, 2)} / ${fixed(summary.crossP99, 2)} | ` +
        `${fixed(summary.extraP50, 2)} / ${fixed(summary.extraP99, 2)} | ` +
        `${thousands(first?.same.count ?? Number.NaN)} / ${thousands(first?.cross.count ?? Number.NaN)} |`,
    )
  }
  return lines.join('\n')
}

const runsTable = (runs: readonly RunResult[]): string => {
  const lines = [
    '| round | instances | attempt | sent/s | delivered/s | p50 / p95 / p99 / max ms | same instance p50 / p99 | other instance p50 / p99 | CPU per instance % | CPU ms / 1k | Redis % | PostgreSQL % | load generator % | others % | correct |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ]
  for (const run of [...runs].sort((a, b) => a.round - b.round || a.instances - b.instances)) {
    lines.push(
      `| ${run.round} | ${run.instances} | ${run.attempt} | ${fixed(run.sentPerS, 0)} | ${fixed(run.deliveriesPerS, 0)} | ` +
        `${fixed(run.p50, 2)} / ${fixed(run.p95, 2)} / ${fixed(run.p99, 2)} / ${fixed(run.max, 1)} | ` +
        `${fixed(run.same.p50, 2)} / ${fixed(run.same.p99, 2)} | ` +
        `${fixed(run.cross.p50, 2)} / ${fixed(run.cross.p99, 2)} | ` +
        `${run.instanceCpuPct.map((value) => fixed(value, 1)).join(' + ')} | ` +
        `${fixed(run.cpuMsPer1000, 1)} | ${fixed(run.redisCpuPct, 1)} | ${fixed(run.postgresCpuPct, 1)} | ` +
        `${fixed(run.loadgenCpuPct, 0)} | ${fixed(run.otherCpuPct, 0)} | ` +
        `${run.correctness.ok ? 'yes' : `**no**: ${run.correctness.problems.join('; ')}`} |`,
    )
  }
  return lines.join('\n')
}

const verdict = (summaries: readonly Summary[], options: Options): string[] => {
  const offered = options.rooms * options.writers * options.rate * (options.clients - 1)
  const lines: string[] = []
  for (const summary of summaries.filter((summary) => summary.instances > 1)) {
    lines.push(
      `- Cross-instance overhead, ${summary.instances} instances: a reader on another instance ` +
        `gets an edit ${fixed(summary.extraP50, 2)} ms later at p50 and ${fixed(summary.extraP99, 2)} ms ` +
        `later at p99 than a reader on the writer's instance (target ≤ ${P99_TARGET_MS} ms p99 ` +
        `extra): ${mark(summary.extraP99 <= P99_TARGET_MS)}.`,
    )
  }
  lines.push(
    `- Aggregate delivered updates/s (≈ ${thousands(offered)} deliveries/s offered): ` +
      summaries
        .map(
          (summary) =>
            `${summary.instances} instance${summary.instances === 1 ? '' : 's'} ` +
            `${thousands(summary.deliveriesPerS)}/s`,
        )
        .join(', ') +
      '.',
  )
  const runs = summaries.flatMap((summary) => summary.runs)
  lines.push(
    `- Correctness: ${runs.filter((run) => run.correctness.ok).length}/${runs.length} runs ` +
      'passed (every reader got every insert once; every instance, and a fresh instance reading ' +
      'PostgreSQL afterwards, served exactly the text written).',
  )
  return lines
}

/** What the figures mean on this machine and what to expect with more cores. */
const reading = (summaries: readonly Summary[], options: Options): string[] => {
  const one = summaries.find((summary) => summary.instances === 1)
  const multi = summaries.filter((summary) => summary.instances > 1)
  const most = multi.reduce<Summary | undefined>(
    (best, summary) => (best === undefined || summary.instances > best.instances ? summary : best),
    undefined,
  )
  const range = (values: readonly number[], digits: number) => {
    const finite = values.filter(Number.isFinite)
    if (finite.length === 0) return '–'
    const low = Math.min(...finite)
    const high = Math.max(...finite)
    return low.toFixed(digits) === high.toFixed(digits)
      ? low.toFixed(digits)
      : `${low.toFixed(digits)}–${high.toFixed(digits)}`
  }
  const offered = options.rooms * options.writers * options.rate * (options.clients - 1)
  const short = summaries.filter((summary) => summary.deliveriesPerS < 0.98 * offered)
  const lines = ['### Reading the results', '']
  if (multi.length > 0) {
    lines.push(
      "- **Cross-instance latency** is one more hop: the writer's instance relays the update to " +
        "its own sockets and publishes it on the room's Redis channel; Redis forwards it to every " +
        'other instance serving the room, which applies it to its copy of the document and relays ' +
        `it to its sockets. Here that hop added ${range(
          multi.map((summary) => summary.extraP50),
          2,
        )} ms at the median and ${range(
          multi.map((summary) => summary.extraP99),
          1,
        )} ms at p99 (target ≤ ${P99_TARGET_MS} ms). The tail depends mostly on how busy the ` +
        'cores are: the instances, the load generator, Redis and PostgreSQL share two cores here, ' +
        'and an event loop that waits for a core delays every delivery behind it.',
    )
  }
  lines.push(
    '- **Throughput on this machine**: the offered load is fixed and ' +
      (short.length === 0
        ? 'every configuration delivered all of it, '
        : `${short.map((summary) => `${summary.instances} instance(s)`).join(', ')} fell short of it, `) +
      'so what the instance count changes is what the work costs. Each instance is one ' +
      'single-threaded event loop; on 2 cores shared with the load generator, Redis and ' +
      'PostgreSQL, more instances cannot add capacity. They divide the socket writes among ' +
      'themselves, but together they use more CPU per delivery: every instance with a client in a ' +
      'room receives every update of that room from Redis and applies it to its own copy of the ' +
      'document (with clients spread evenly, as here, that is every instance for every room), ' +
      'each instance runs its own group commit, and every update crosses Redis.',
  )
  if (one !== undefined && most !== undefined) {
    lines.push(
      `- Measured: ${most.instances} instances used ${ratio(most.cpuMsPer1000, one.cpuMsPer1000)} ` +
        `the CPU per delivery of one (${fixed(most.cpuMsPer1000, 1)} vs ` +
        `${fixed(one.cpuMsPer1000, 1)} ms per 1,000 deliveries, all instances together); each of ` +
        `them ran at ${fixed(most.perInstanceCpuPct, 1)} % of a core where the single instance ` +
        `needed ${fixed(one.perInstanceCpuPct, 1)} %. Redis used ${range(
          summaries.map((summary) => summary.redisCpuPct),
          1,
        )} % of a core and the PostgreSQL backends ${range(
          summaries.map((summary) => summary.postgresCpuPct),
          1,
        )} %.`,
    )
    lines.push(
      '- **With more cores** (one per instance, plus cores for the load generator, Redis and ' +
        'PostgreSQL), the last column is what to expect: it extrapolates linearly to the load at ' +
        'which the busiest instance would fill its core (delivered/s ÷ its share of a core) — ' +
        `about ${thousands(one.ceilingPerS)} deliveries/s for one instance and about ` +
        `${thousands(most.ceilingPerS)} for ${most.instances} ` +
        `(${ratio(most.ceilingPerS, one.ceilingPerS)}). The aggregate grows with the instances, ` +
        'less than proportionally, because the per-update work (validation, Yjs, Redis) is ' +
        'repeated on every instance serving a room while only the per-socket work is divided. A ' +
        'load balancer that sends the clients of a room to the same instance (hashing the room ' +
        'path) removes most of the repetition; correctness never depends on it. It is an ' +
        'extrapolation, not a measurement: latency grows well before a core is full, and Redis ' +
        '(one thread) and PostgreSQL have ceilings of their own, though far above these loads ' +
        'judging by their CPU.',
    )
  }
  lines.push(
    '- "Redis CPU" is the whole redis-server, shared with anything else using it at the time ' +
      '(CI runs on this machine too); "PostgreSQL backends" counts only the connections of the ' +
      "run's instances, not PostgreSQL's shared background processes (WAL writer, checkpointer), " +
      'which land in "other processes".',
  )
  return lines
}

const machine = () =>
  describeMachine(' (instances, load generator, Redis and PostgreSQL share the cores)')

const methodSection = (options: Options): string[] => [
  '## Several instances: Redis fan-out and PostgreSQL storage (issue 7)',
  '',
  '`bench/cluster.ts` runs 1, 2 and 3 `coedit-server` instances sharing one Redis and one ' +
    'PostgreSQL database, puts the same load on each configuration with the clients spread ' +
    'evenly over the instances, and measures in every run the fan-out latency to readers on the ' +
    "writer's instance and on the other instances, the aggregate delivered updates/s and the CPU " +
    'of every instance. It needs Redis and PostgreSQL on 127.0.0.1 (the ones CI uses); it is not ' +
    'part of `npm test` and never runs in CI.',
  '',
  '```sh',
  'npm run bench:cluster                      # builds the server, 3 rounds of 1, 2, 3 instances',
  'npm run bench:cluster -- --write-readme    # … and replaces this section',
  'npm run bench:cluster -- --instances 2 --rounds 1 --seconds 5   # quick look',
  'npm run bench:cluster -- --help',
  '```',
  '',
  '### Method',
  '',
  '- **Instances**: `coedit-server` child processes (`signaling-server/bin/coedit-server.js`, ' +
    'from a copy of its build frozen when the benchmark starts, as `npm run bench` does) with ' +
    '`--port 0 --redis <url> --postgres <url> --max-connections-per-ip 100000 ' +
    '--connections-per-second 100000`, otherwise defaults; the URL each prints on stderr is ' +
    'where its clients connect. The 1-instance configuration runs with `--redis` too (what a ' +
    'cluster of one costs). Every run gets a fresh PostgreSQL schema (`search_path` in the URL), ' +
    'dropped afterwards; the instances start only once `/healthz` reports storage ok and Redis up.',
  `- **Load**: ${loadTitle(options)}. Raw \`ws\` sockets speak the y-websocket protocol, as in ` +
    '`bench/load.ts`: the sync handshake, an awareness state renewed every 15 s, and per room ' +
    `${options.writers} writers holding a \`Y.Doc\` that append a ${options.insertBytes}-byte ` +
    'insert to a `Y.Text` at a fixed rate. Client c of room r connects to instance (r + c) mod n: ' +
    'every instance gets the same share of sockets and writers, and every room has readers on ' +
    "the writer's instance and on every other one (the case of a load balancer that knows " +
    'nothing about rooms).',
  '- **Latency on one clock**: writers and readers live in this one process; each insert carries ' +
    '`[room:writer:seq@µs]`, its send time from `performance.now()`, and arrival is timed in the ' +
    "same process. Each delivery (an insert reaching a socket other than its writer's) is " +
    'counted as *same instance* or *other instance* by where the reader and the writer are ' +
    'connected, so the cross-instance overhead comes from one run under one load; "extra" is ' +
    'the difference of the two quantiles within a run, median over rounds. Only inserts sent ' +
    `during the ${options.durationMs / 1000} s measured phase count (after a ` +
    `${options.warmupMs / 1000} s warm-up).`,
  '- **CPU**: utime + stime of every instance from `/proc/<pid>/stat` over the measured phase, ' +
    "as % of one core and as all instances' CPU ms per 1,000 deliveries; Redis from its " +
    "`INFO cpu`; PostgreSQL as the backends of the run's connections (found in " +
    '`pg_stat_activity` by an `application_name` set in the URL) from `/proc`; the load ' +
    'generator from `process.cpuUsage()`; "other processes" is the rest of the machine\'s busy ' +
    'time (`/proc/stat`).',
  '- **Correctness**, after every run (writers stopped, deliveries drained): every socket ' +
    'received every insert sent to its room by the other writers, each exactly once, and nothing ' +
    "from another room; the writers' texts are equal and hold exactly the inserts sent; one " +
    "reader's received updates rebuild that text; a fresh socket on **every** instance syncs to " +
    'it; then the instances are stopped (SIGTERM: they flush), a new instance is started on the ' +
    'same schema without Redis, and a fresh socket per room must sync to the same text from ' +
    'PostgreSQL.',
  '- **Interleaving**: rounds run 1, 2, 3 instances, 1, 2, 3 … in the same load-generator ' +
    'process; the tables give medians over rounds. Before each run the generator waits (up to ' +
    '`--quiet-wait` s) for the rest of the machine to go quiet; a correct run during which ' +
    'other processes used more than `--max-others` % of a core is repeated (up to `--attempts` ' +
    'in all, the last kept; the JSON keeps the discarded ones), and the per-run table reports ' +
    'what other processes used during each kept run.',
  '',
  'Raw results of every invocation (JSON and markdown) go to `bench/results/` (not committed).',
]

// ---------------------------------------------------------------------------------------------

const requireEngines = async (options: Options, redis: RedisClient) => {
  try {
    await redis.connect()
    await redis.ping()
  } catch (error) {
    throw new Error(`Redis is required at ${options.redisUrl}: ${String(error)}`, { cause: error })
  }
  try {
    await adminQuery(options.postgresUrl, 'SELECT 1')
  } catch (error) {
    throw new Error(`PostgreSQL is required at ${options.postgresUrl}: ${String(error)}`, {
      cause: error,
    })
  }
}

const cleanUp = async (options: Options, build: CoeditBuild | undefined) => {
  killEverything()
  for (const name of [...liveSchemas]) {
    try {
      await dropSchema(options.postgresUrl, name)
    } catch (error) {
      process.stderr.write(`could not drop schema ${name}: ${String(error)}\n`)
    }
  }
  build?.remove()
}

const main = async () => {
  const argv = process.argv.slice(2)
  const options = parseOptions(argv)
  const command = commandLine('bench:cluster', argv)
  const startedAt = new Date()
  const redis: RedisClient = createClient({
    url: options.redisUrl,
    socket: { reconnectStrategy: false, connectTimeout: 2_000 },
  })
  redis.on('error', () => undefined)
  let build: CoeditBuild | undefined
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return
    interrupted = true
    process.stderr.write(`\n${signal}: stopping instances and dropping schemas\n`)
    void cleanUp(options, build).finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const runs: RunResult[] = []
  /** Runs repeated because other processes were busy (always correct: failures are kept). */
  const discarded: RunResult[] = []
  try {
    await requireEngines(options, redis)
    build = snapshotCoeditBuild()
    process.stdout.write(`Coedit build ${build.fingerprint} (frozen copy for this run)\n`)
    process.stdout.write(`${loadTitle(options)}\n`)
    for (let round = 1; round <= options.rounds; round++) {
      for (const count of options.instances) {
        for (let attempt = 1; ; attempt++) {
          const result = await runOnce(count, round, attempt, options, build, redis)
          const repeat =
            result.correctness.ok &&
            result.otherCpuPct > options.maxOthersPct &&
            attempt < options.attempts
          ;(repeat ? discarded : runs).push(result)
          process.stdout.write(
            `round ${round} instances ${count} attempt ${attempt} delivered ${fixed(result.deliveriesPerS, 0)}/s ` +
              `p50/p99 ${fixed(result.p50, 2)}/${fixed(result.p99, 2)} ms ` +
              `same ${fixed(result.same.p50, 2)}/${fixed(result.same.p99, 2)} ` +
              `other ${fixed(result.cross.p50, 2)}/${fixed(result.cross.p99, 2)} ms ` +
              `cpu ${result.instanceCpuPct.map((value) => fixed(value, 1)).join('+')}% ` +
              `(${fixed(result.cpuMsPer1000, 1)} ms/1k) redis ${fixed(result.redisCpuPct, 1)}% ` +
              `pg ${fixed(result.postgresCpuPct, 1)}% loadgen ${fixed(result.loadgenCpuPct, 0)}% ` +
              `others ${fixed(result.otherCpuPct, 0)}% ` +
              `${result.correctness.ok ? 'ok' : `FAILED ${result.correctness.problems.join('; ')}`}` +
              `${repeat ? ' (machine busy: repeating)' : ''}\n`,
          )
          if (!repeat) break
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    if (redis.isOpen) await redis.close()
    await cleanUp(options, build)
  }

  const summaries = options.instances.map((count) =>
    summarize(
      count,
      runs.filter((run) => run.instances === count),
    ),
  )
  const multi = summaries.filter((summary) => summary.instances > 1)
  const results = [
    measuredLine(startedAt, machine()),
    `Coedit build ${build?.fingerprint ?? '?'} (SHA-256 prefix of its compiled JavaScript, frozen ` +
      'for the whole run).',
    '',
    ...reproduceLines(command),
    '',
    `**${loadTitle(options)}**; medians of ${options.rounds} interleaved rounds. Runs during ` +
      `which other processes used more than ${options.maxOthersPct} % of a core were repeated ` +
      `(up to ${options.attempts} attempts in all, the last kept): ${discarded.length} this time.`,
    '',
    ...(multi.length === 0
      ? []
      : [
          "Fan-out latency by where the reader is connected: the writer's instance or another " +
            'one (same runs as below).',
          '',
          latencyTable(multi),
          '',
        ]),
    'Aggregate throughput and cost at the fixed offered load:',
    '',
    throughputTable(summaries),
    '',
    ...verdict(summaries, options),
    '',
    '<details><summary>Every run</summary>',
    '',
    runsTable(runs),
    '',
    '</details>',
  ]
  const section = [
    ...methodSection(options),
    '',
    '### Results',
    '',
    ...results,
    '',
    ...reading(summaries, options),
  ].join('\n')
  process.stdout.write(
    `\n${multi.length > 0 ? latencyTable(multi) + '\n\n' : ''}${throughputTable(summaries)}\n\n` +
      `${verdict(summaries, options).join('\n')}\n`,
  )
  saveResults({
    prefix: 'cluster-',
    startedAt,
    json: { command, options, runs, discarded },
    markdown: section,
    readmeSection: options.writeReadme ? 'cluster' : undefined,
  })
}

runMain(main)

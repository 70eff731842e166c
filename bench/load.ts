/**
 * Load generator: R rooms × C WebSocket clients per room speaking the y-websocket protocol (or
 * Hocuspocus' framing of it), W writers per room typing small Y.Text inserts at a fixed rate.
 * Measures, per server and round: fan-out latency (send time inside the inserted text, arrival
 * timed in this same process: one clock), delivered updates/s, server CPU over the measured phase
 * (from /proc/<pid>/stat), RSS per idle socket, and checks correctness. Servers are interleaved
 * (A B C A B C …) and medians reported; see bench/README.md for the method.
 *
 *   npm run bench -- [--loads 100x10,20x5] [--writers 2] [--rate 5] [--warmup 4] [--duration 15]
 *                    [--rounds 3] [--servers coedit,y-websocket,hocuspocus] [--write-readme]
 *                    [--profile coedit]
 */
import { sleep } from './async.js'
import { choices, parseFlags, positive, runMain } from './cli.js'
import { fixed, mark, ratio } from './format.js'
import { checkRooms, freshMismatches, Problems } from './load-checks.js'
import { describeLoad, LoadClients, Measurement, type RoomState } from './load-client.js'
import { describeMachine, waitForQuiet } from './machine.js'
import { createCodec } from './protocol.js'
import { commandLine, measuredLine, reproduceLines, saveResults } from './report.js'
import {
  DEFAULT_SERVERS,
  SERVER_NAMES,
  machineBusyMs,
  serverInfo,
  snapshotCoeditBuild,
  startServer,
  type CoeditBuild,
  type RunningServer,
  type ServerName,
} from './servers.js'
import { median, quantile, Samples } from './stats.js'

// ---------------------------------------------------------------------------------------------
// Options

interface Load {
  readonly rooms: number
  readonly clients: number
}

interface Options {
  readonly loads: readonly Load[]
  readonly writers: number
  /** Updates per second per writer. */
  readonly rate: number
  readonly warmupMs: number
  readonly durationMs: number
  readonly rounds: number
  readonly servers: readonly ServerName[]
  /** Wait after all sockets are connected before reading the idle RSS. */
  readonly settleMs: number
  /** Awareness renewal period per client (y-protocols renews every 15 s). */
  readonly awarenessMs: number
  readonly insertBytes: number
  readonly writeReadme: boolean
  readonly profile: readonly ServerName[]
  /** Longest wait, before each run, for other processes to leave the cores alone. */
  readonly quietWaitMs: number
  readonly coeditArgs: readonly string[]
  readonly serverNodeFlags: readonly string[]
}

const USAGE = `Usage: npm run bench -- [options]
  --loads <RxC,...>     rooms x clients per room, one load after the other (default 100x10,20x5)
  --rooms <n> --clients <n>   a single load instead of --loads
  --writers <n>         writers per room (default 2)
  --rate <n>            updates per second per writer (default 5)
  --insert-bytes <n>    size of each Y.Text insert (default 25)
  --warmup <s>          discarded warm-up (default 4)
  --duration <s>        measured phase (default 15)
  --settle <s>          idle wait before reading RSS (default 3)
  --rounds <n>          interleaved rounds (default 3)
  --servers <a,b>       coedit,y-websocket,hocuspocus (default), or the diagnostics
                        coedit-memory (Coedit with in-memory storage) and floor (the cheapest
                        relay: raw node:http WebSocket framing, no ws, no Yjs document, one
                        write per delivery; its fresh-socket sync check is skipped, as it keeps
                        no document)
  --server-node-flags="<flags>"  extra node flags for every server, e.g. "--perf-basic-prof"
  --coedit-args="<flags>"  extra coedit-server flags, e.g. --coedit-args="--batch-window-ms 200"
  --profile <a,b>       run these servers under node --cpu-prof (bench/results/profiles)
  --quiet-wait <s>      before each run, wait up to this long for other processes to use
                        < 30 % of a core (default 30; the machine is shared)
  --write-readme        write the results table into bench/README.md
`

const parseOptions = (argv: readonly string[]): Options => {
  const values = parseFlags(
    argv,
    {
      loads: { type: 'string', default: '100x10,20x5' },
      rooms: { type: 'string' },
      clients: { type: 'string' },
      writers: { type: 'string', default: '2' },
      rate: { type: 'string', default: '5' },
      'insert-bytes': { type: 'string', default: '25' },
      warmup: { type: 'string', default: '4' },
      duration: { type: 'string', default: '15' },
      settle: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      servers: { type: 'string', default: DEFAULT_SERVERS.join(',') },
      'coedit-args': { type: 'string', default: '' },
      'server-node-flags': { type: 'string', default: '' },
      profile: { type: 'string', default: '' },
      'quiet-wait': { type: 'string', default: '30' },
      'write-readme': { type: 'boolean', default: false },
    },
    USAGE,
  )
  const names = (flag: string, text: string): ServerName[] =>
    choices(flag, text, SERVER_NAMES, 'server')
  const loads: Load[] =
    values.rooms !== undefined || values.clients !== undefined
      ? [
          {
            rooms: positive('rooms', values.rooms ?? '100'),
            clients: positive('clients', values.clients ?? '10'),
          },
        ]
      : values.loads.split(',').map((text) => {
          const [rooms = '', clients = ''] = text.split('x')
          return { rooms: positive('loads', rooms), clients: positive('loads', clients) }
        })
  const writers = positive('writers', values.writers)
  for (const load of loads) {
    if (writers > load.clients) throw new Error('--writers must not exceed clients per room')
  }
  return {
    loads,
    writers,
    rate: positive('rate', values.rate),
    insertBytes: positive('insert-bytes', values['insert-bytes']),
    warmupMs: positive('warmup', values.warmup) * 1000,
    durationMs: positive('duration', values.duration) * 1000,
    settleMs: positive('settle', values.settle) * 1000,
    rounds: positive('rounds', values.rounds),
    servers: names('servers', values.servers),
    profile: names('profile', values.profile),
    awarenessMs: 15_000,
    quietWaitMs: Number(values['quiet-wait']) * 1000,
    coeditArgs: values['coedit-args'].split(/\s+/).filter(Boolean),
    serverNodeFlags: values['server-node-flags'].split(/\s+/).filter(Boolean),
    writeReadme: values['write-readme'],
  }
}

// ---------------------------------------------------------------------------------------------
// One run: one server, one load

interface Correctness {
  readonly ok: boolean
  readonly problems: readonly string[]
  /** Checks not run for this server, with the reason (e.g. `floor` keeps no document). */
  readonly skipped: readonly string[]
}

/** Why the fresh-socket sync check is skipped for a server that keeps no document. */
const NO_DOCUMENT = 'fresh-socket sync not checked: diagnostic server that keeps no document'

interface RunResult {
  readonly server: ServerName
  readonly label: string
  readonly round: number
  readonly load: Load
  readonly connections: number
  readonly offeredPerS: number
  readonly sentPerS: number
  readonly deliveriesPerS: number
  /** Frames received per second by all clients (updates, echoes, awareness, acknowledgements). */
  readonly framesPerS: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly cpuPct: number
  /** Kernel share of the server's CPU, %. */
  readonly sysShare: number
  readonly cpuMsPer1000: number
  readonly rssBeforeKb: number
  readonly rssIdleKb: number
  readonly rssPerSocketKb: number
  readonly rssAfterLoadKb: number
  readonly loadgenCpuPct: number
  /** CPU used by everything else on the machine during the measured phase, % of a core. */
  readonly otherCpuPct: number
  readonly correctness: Correctness
}

/** The checks of load-checks.ts; a fresh socket per room only where the server keeps documents. */
const checkCorrectness = async (
  server: RunningServer,
  rooms: readonly RoomState[],
  writersPerRoom: number,
): Promise<Correctness> => {
  const problems = new Problems()
  const texts = checkRooms(rooms, writersPerRoom, problems, "writers' texts differ")
  // A fresh socket syncs to the same text (only where the server keeps the document).
  const skipped = server.info.keepsDocument ? [] : [NO_DOCUMENT]
  const fresh = server.info.keepsDocument
    ? rooms.map((room) => ({ room, url: server.url(room.name), where: room.name }))
    : []
  const mismatches = await freshMismatches(fresh, texts, problems)
  if (mismatches > 0) problems.note(`${mismatches} rooms: a fresh socket synced to another text`)
  return { ok: problems.count === 0, problems: problems.list, skipped }
}

const runOnce = async (
  name: ServerName,
  round: number,
  load: Load,
  options: Options,
  coedit: CoeditBuild,
): Promise<RunResult> => {
  if (options.quietWaitMs > 0) await waitForQuiet(options.quietWaitMs)
  const server = await startServer(name, {
    coedit,
    profile: options.profile.includes(name),
    coeditArgs: options.coeditArgs,
    nodeFlags: options.serverNodeFlags,
  })
  const latencies = new Samples()
  let deliveries = 0
  const run = new Measurement((latency) => {
    deliveries++
    latencies.push(latency)
  }, true)
  let clients: LoadClients | undefined
  try {
    await sleep(1_000)
    const before = server.stats()

    // Connect every client and complete the sync handshake.
    clients = new LoadClients(
      { rooms: load.rooms, clients: load.clients, writers: options.writers },
      (r) => `bench-${r}`,
      (room) => createCodec(server.info.dialect, room),
      run,
    )
    await clients.connect(
      (client) => server.url(client.room.name),
      () => `${server.info.label}: client sync`,
    )
    clients.startAwareness(options.awarenessMs)

    await sleep(options.settleMs)
    const idle = server.stats()

    clients.startWriters(options.rate, options.insertBytes)

    await sleep(options.warmupMs)
    run.open()
    const cpuStart = server.stats()
    const machineStart = machineBusyMs()
    const loadgenStart = process.cpuUsage()
    const sentStart = clients.sentCount()
    await sleep(options.durationMs)
    const cpuEnd = server.stats()
    const loadgenCpu = process.cpuUsage(loadgenStart)
    const machineMs = machineBusyMs() - machineStart
    const measuredMs = run.close()
    clients.stopWriters()
    const sentInWindow = clients.sentCount() - sentStart

    await clients.drain()
    const afterLoad = server.stats()
    if (!server.alive) throw new Error(`${server.info.label} exited during the run`)

    const correctness = await checkCorrectness(server, clients.rooms, options.writers)

    const sorted = latencies.sorted()
    const deliveriesPerS = (deliveries * 1000) / measuredMs
    const cpuMs = cpuEnd.cpuMs - cpuStart.cpuMs
    const loadgenMs = (loadgenCpu.user + loadgenCpu.system) / 1000
    const connections = load.rooms * load.clients
    return {
      server: name,
      label: server.info.label,
      round,
      load,
      connections,
      offeredPerS: load.rooms * options.writers * options.rate,
      sentPerS: (sentInWindow * 1000) / measuredMs,
      deliveriesPerS,
      framesPerS: (run.frames * 1000) / measuredMs,
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      p99: quantile(sorted, 0.99),
      max: quantile(sorted, 1),
      cpuPct: (cpuMs / measuredMs) * 100,
      sysShare: cpuMs === 0 ? Number.NaN : ((cpuEnd.sysMs - cpuStart.sysMs) / cpuMs) * 100,
      cpuMsPer1000: deliveries === 0 ? Number.NaN : (cpuMs * 1000) / deliveries,
      rssBeforeKb: before.rssKb,
      rssIdleKb: idle.rssKb,
      rssPerSocketKb: (idle.rssKb - before.rssKb) / connections,
      rssAfterLoadKb: afterLoad.rssKb,
      loadgenCpuPct: (loadgenMs / measuredMs) * 100,
      otherCpuPct: Math.max(0, ((machineMs - cpuMs - loadgenMs) / measuredMs) * 100),
      correctness,
    }
  } finally {
    clients?.close()
    await server.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// Summaries

interface Summary {
  readonly server: ServerName
  readonly label: string
  readonly runs: readonly RunResult[]
  readonly deliveriesPerS: number
  readonly sentPerS: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly cpuPct: number
  readonly cpuMsPer1000: number
  readonly rssPerSocketKb: number
  readonly loadgenCpuPct: number
  readonly correct: number
}

const summarize = (server: ServerName, runs: readonly RunResult[]): Summary => {
  const of = (pick: (run: RunResult) => number) => median(runs.map(pick))
  return {
    server,
    label: runs[0]?.label ?? serverInfo(server).label,
    runs,
    deliveriesPerS: of((run) => run.deliveriesPerS),
    sentPerS: of((run) => run.sentPerS),
    p50: of((run) => run.p50),
    p95: of((run) => run.p95),
    p99: of((run) => run.p99),
    cpuPct: of((run) => run.cpuPct),
    cpuMsPer1000: of((run) => run.cpuMsPer1000),
    rssPerSocketKb: of((run) => run.rssPerSocketKb),
    loadgenCpuPct: of((run) => run.loadgenCpuPct),
    correct: runs.filter((run) => run.correctness.ok).length,
  }
}

const REFERENCE: ServerName = 'y-websocket'

const loadTitle = (load: Load, options: Options) =>
  describeLoad({ ...load, writers: options.writers }, options.rate, (value) =>
    value.toLocaleString('en-US'),
  )

const correctnessText = (correctness: Correctness, yes: string, no: string): string => {
  const verdict = correctness.ok ? yes : `${no}: ${correctness.problems.join('; ')}`
  return correctness.skipped.length === 0
    ? verdict
    : `${verdict} (${correctness.skipped.join('; ')})`
}

const summaryTable = (summaries: readonly Summary[]): string => {
  const reference = summaries.find((summary) => summary.server === REFERENCE)
  const lines = [
    '| server | delivered updates/s | p50 / p95 / p99 ms | server CPU, % of a core | CPU ms per 1,000 deliveries | vs reference | KB RSS per idle socket | vs reference | correct runs |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const summary of summaries) {
    lines.push(
      `| ${summary.label} | ${fixed(summary.deliveriesPerS, 0)} | ` +
        `${fixed(summary.p50, 2)} / ${fixed(summary.p95, 2)} / ${fixed(summary.p99, 2)} | ` +
        `${fixed(summary.cpuPct, 1)} % | ${fixed(summary.cpuMsPer1000, 1)} | ` +
        `${ratio(summary.cpuMsPer1000, reference?.cpuMsPer1000)} | ${fixed(summary.rssPerSocketKb, 1)} | ` +
        `${ratio(summary.rssPerSocketKb, reference?.rssPerSocketKb)} | ${summary.correct}/${summary.runs.length}` +
        `${summary.runs.some((run) => run.correctness.skipped.length > 0) ? ' (partly checked)' : ''} |`,
    )
  }
  return lines.join('\n')
}

const roundsTable = (summaries: readonly Summary[]): string => {
  const lines = [
    '| round | server | sent/s | delivered/s | frames in/s | p50 / p95 / p99 / max ms | CPU % (kernel share) | CPU ms / 1k | RSS before → idle → after load, MB | KB/socket | load generator CPU % | other processes CPU % | correct |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ]
  const runs = summaries.flatMap((summary) => summary.runs).sort((a, b) => a.round - b.round)
  for (const run of runs) {
    lines.push(
      `| ${run.round} | ${run.server} | ${fixed(run.sentPerS, 0)} | ${fixed(run.deliveriesPerS, 0)} | ${fixed(run.framesPerS, 0)} | ` +
        `${fixed(run.p50, 2)} / ${fixed(run.p95, 2)} / ${fixed(run.p99, 2)} / ${fixed(run.max, 1)} | ` +
        `${fixed(run.cpuPct, 1)} (${fixed(run.sysShare, 0)} %) | ${fixed(run.cpuMsPer1000, 1)} | ` +
        `${fixed(run.rssBeforeKb / 1024, 1)} → ${fixed(run.rssIdleKb / 1024, 1)} → ${fixed(run.rssAfterLoadKb / 1024, 1)} | ` +
        `${fixed(run.rssPerSocketKb, 1)} | ${fixed(run.loadgenCpuPct, 0)} | ${fixed(run.otherCpuPct, 0)} | ` +
        `${correctnessText(run.correctness, 'yes', '**no**')} |`,
    )
  }
  return lines.join('\n')
}

/** The issue's target, for Coedit against the reference and Hocuspocus. */
const verdict = (summaries: readonly Summary[]): string[] => {
  const coedit = summaries.find((summary) => summary.server === 'coedit')
  const reference = summaries.find((summary) => summary.server === REFERENCE)
  if (coedit === undefined || reference === undefined) return []
  const others = summaries.filter(
    (summary) => summary.server === 'y-websocket' || summary.server === 'hocuspocus',
  )
  const cpuRatio = reference.cpuMsPer1000 / coedit.cpuMsPer1000
  const cpuMet = cpuRatio >= 2
  const p99Met = coedit.p99 <= reference.p99
  const rssMet = others.every((other) => coedit.rssPerSocketKb < other.rssPerSocketKb)
  return [
    `- CPU per delivery: the reference uses ${fixed(cpuRatio, 2)}× Coedit's (target ≥ 2×): ${mark(cpuMet)}.`,
    `- p99: Coedit ${fixed(coedit.p99, 2)} ms vs reference ${fixed(reference.p99, 2)} ms (target ≤): ${mark(p99Met)}.`,
    `- RSS per idle socket: Coedit ${fixed(coedit.rssPerSocketKb, 1)} KB vs ` +
      others.map((other) => `${other.server} ${fixed(other.rssPerSocketKb, 1)} KB`).join(', ') +
      ` (target: less than both): ${mark(rssMet)}.`,
    `- Correctness: ${summaries.map((summary) => `${summary.server} ${summary.correct}/${summary.runs.length}`).join(', ')} runs passed.`,
  ]
}

/** Diagnostic servers whose correctness is only partly checked, and why. */
const diagnosticNotes = (summaries: readonly Summary[]): string[] =>
  summaries
    .filter((summary) => !serverInfo(summary.server).keepsDocument)
    .map(
      (summary) =>
        `- ${summary.server} is a diagnostic, not a usable server: it keeps no document, so a fresh ` +
        `socket syncs to nothing and that check is skipped; deliveries (each once, none missing, ` +
        `none from another room), the writers' texts and a reader's rebuild are still checked.`,
    )

const machine = () => describeMachine(' (load generator and servers share the cores)')

// ---------------------------------------------------------------------------------------------

const main = async () => {
  const argv = process.argv.slice(2)
  const options = parseOptions(argv)
  const command = commandLine('bench', argv)
  const startedAt = new Date()
  const sections: string[] = []
  const allRuns: RunResult[] = []
  const coedit = snapshotCoeditBuild()
  process.stdout.write(`Coedit build ${coedit.fingerprint} (frozen copy for this run)\n`)
  try {
    for (const load of options.loads) {
      process.stdout.write(`\n## ${loadTitle(load, options)}\n`)
      const runs: RunResult[] = []
      for (let round = 1; round <= options.rounds; round++) {
        for (const name of options.servers) {
          const result = await runOnce(name, round, load, options, coedit)
          runs.push(result)
          process.stdout.write(
            `round ${round} ${name.padEnd(11)} delivered ${fixed(result.deliveriesPerS, 0)}/s ` +
              `frames ${fixed(result.framesPerS, 0)}/s ` +
              `p50/p95/p99 ${fixed(result.p50, 2)}/${fixed(result.p95, 2)}/${fixed(result.p99, 2)} ms ` +
              `cpu ${fixed(result.cpuPct, 1)}% (sys ${fixed(result.sysShare, 0)}%, ${fixed(result.cpuMsPer1000, 1)} ms/1k) ` +
              `rss/socket ${fixed(result.rssPerSocketKb, 1)} KB loadgen ${fixed(result.loadgenCpuPct, 0)}% others ${fixed(result.otherCpuPct, 0)}% ` +
              `${correctnessText(result.correctness, 'ok', 'FAILED')}\n`,
          )
        }
      }
      allRuns.push(...runs)
      const summaries = options.servers.map((name) =>
        summarize(
          name,
          runs.filter((run) => run.server === name),
        ),
      )
      const section = [
        `### ${loadTitle(load, options)}`,
        '',
        `Medians of ${options.rounds} interleaved rounds; "vs reference" is the median divided by ` +
          `${serverInfo(REFERENCE).label}'s (lower is better).`,
        '',
        summaryTable(summaries),
        '',
        ...verdict(summaries),
        ...diagnosticNotes(summaries),
        '',
        '<details><summary>Every run</summary>',
        '',
        roundsTable(summaries),
        '',
        '</details>',
      ].join('\n')
      sections.push(section)
      process.stdout.write(
        `\n${summaryTable(summaries)}\n\n` +
          `${[...verdict(summaries), ...diagnosticNotes(summaries)].join('\n')}\n`,
      )
    }
  } finally {
    coedit.remove()
  }
  const markdown = [
    measuredLine(startedAt, machine()),
    `Coedit build ${coedit.fingerprint} (SHA-256 prefix of its compiled JavaScript, frozen for the whole run).`,
    `Each run: ${options.warmupMs / 1000} s warm-up (discarded), ${options.durationMs / 1000} s measured, ` +
      `${options.insertBytes}-byte inserts, awareness renewed every ${options.awarenessMs / 1000} s.`,
    '',
    ...reproduceLines(command),
    '',
    ...sections.flatMap((section) => [section, '']),
  ].join('\n')
  saveResults({
    prefix: '',
    startedAt,
    json: { command, options, runs: allRuns },
    markdown,
    readmeSection: options.writeReadme ? 'results' : undefined,
  })
}

runMain(main)

/**
 * Editor bindings under a real editing trace, in Chromium: the automerge-paper trace replayed as
 * remote Yjs updates into a `Y.Text` bound to a `contenteditable` element (`bindContentEditable`),
 * to Quill 2 (`bindQuill`) and to Quill 2 through stock y-quill, against the same updates applied
 * to a bare `Y.Text`; plus remote keystrokes into a ~100-page document. See bench/README.md
 * ("Editor bindings under a real editing trace") for the method.
 *
 * Runs Chromium, so it must run inside the private network namespace of `scripts/in-netns.mjs`
 * (and refuses to run anywhere else):
 *
 *   npm run bench:bindings -- [--ops 50000|all] [--batch 100] [--rounds 3]
 *                             [--variants bare,ce,quill,y-quill] [--modes single,batch]
 *                             [--keystrokes 200] [--copies 3] [--write-readme]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { Browser, Page } from 'playwright-core'
import * as Y from 'yjs'
import { buildBrowserBundle } from '../sdk/test/browser/helpers/bundle.js'
import { startStaticServer } from '../sdk/test/browser/helpers/static-server.js'
import type {
  KeystrokeResult,
  Quantiles,
  ReplayResult,
  TextCheck,
  TraceBench,
  Variant,
} from './fixtures/binding-trace-entry.js'
import { launchBenchChromium, openPage, requireTestNamespace } from './browser.js'
import { choices, count, parseFlags, runMain } from './cli.js'
import { fixed, mark, ms, thousands } from './format.js'
import { describeMachine, ownTreeCpuMs } from './machine.js'
import { commandLine, measuredLine, reproduceLines, saveResults } from './report.js'
import { BENCH_DIR, ROOT_DIR, machineBusyMs, packageVersion } from './servers.js'
import { median } from './stats.js'

/** `../shared/data/` relative to the project root (not committed; see its README). */
const TRACE_PATH = join(ROOT_DIR, '..', 'shared', 'data', 'automerge-paper.json.gz')

// ---------------------------------------------------------------------------------------------
// Options

const VARIANTS: readonly Variant[] = ['bare', 'ce', 'quill', 'y-quill']
type Mode = 'single' | 'batch'
const MODES: readonly Mode[] = ['single', 'batch']

/** The issue's targets. */
const MAX_CE_RATIO = 3
const MAX_KEYSTROKE_P50_MS = 1
/** Characters per page when sizing "a 100-page document". */
const CHARS_PER_PAGE = 3_000

interface Options {
  /** Patches of the trace replayed (a prefix), or every patch. */
  readonly ops: number | 'all'
  readonly batch: number
  readonly rounds: number
  readonly variants: readonly Variant[]
  readonly modes: readonly Mode[]
  readonly keystrokes: number
  readonly warmup: number
  readonly copies: number
  readonly seed: number
  readonly writeReadme: boolean
}

const USAGE = `Usage: npm run bench:bindings -- [options]
  --ops <n|all>      replay the first n patches of the trace, or all 259,778 (default 50000)
  --batch <n>        patches per update in the batch mode (default 100)
  --rounds <n>       interleaved rounds (default 3)
  --variants <a,b>   ${VARIANTS.join(',')} (default: all)
  --modes <a,b>      ${MODES.join(',')} (default: both); "none" skips the trace replay
  --keystrokes <n>   remote keystrokes into the ~100-page document, 0 to skip (default 200)
  --warmup <n>       keystrokes applied first and not measured (default 20)
  --copies <n>       the 100-page document is the trace replayed this many times end to end
                     (default 3: ≈ 315,000 characters ≈ 105 pages of 3,000)
  --seed <n>         seed of the keystrokes' random positions (default 1)
  --write-readme     write the results into bench/README.md (between the bench:bindings markers)
`

const parseOptions = (argv: readonly string[]): Options => {
  const values = parseFlags(
    argv,
    {
      ops: { type: 'string', default: '50000' },
      batch: { type: 'string', default: '100' },
      rounds: { type: 'string', default: '3' },
      variants: { type: 'string', default: VARIANTS.join(',') },
      modes: { type: 'string', default: MODES.join(',') },
      keystrokes: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '20' },
      copies: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      'write-readme': { type: 'boolean', default: false },
    },
    USAGE,
  )
  const list = <T extends string>(name: string, text: string, allowed: readonly T[]): T[] =>
    text === 'none' ? [] : choices(name, text, allowed)
  const variants = list('variants', values.variants, VARIANTS)
  if (variants.length === 0) throw new Error('--variants: name at least one')
  return {
    ops: values.ops === 'all' ? 'all' : count('ops', values.ops, 1),
    batch: count('batch', values.batch, 1),
    rounds: count('rounds', values.rounds, 1),
    variants,
    modes: list('modes', values.modes, MODES),
    keystrokes: count('keystrokes', values.keystrokes, 0),
    warmup: count('warmup', values.warmup, 0),
    copies: count('copies', values.copies, 1),
    seed: count('seed', values.seed, 0),
    writeReadme: values['write-readme'],
  }
}

// ---------------------------------------------------------------------------------------------
// The trace and the updates generated from it

interface Trace {
  readonly startContent: string
  readonly endContent: string
  readonly txns: readonly { readonly patches: readonly [number, number, string][] }[]
}

const readTrace = (): Trace => {
  if (!existsSync(TRACE_PATH)) {
    throw new Error(
      `The editing trace is missing: ${TRACE_PATH}. This benchmark replays the automerge-paper ` +
        'trace (josephg/editing-traces, sequential_traces/automerge-paper.json.gz, CC BY 4.0); ' +
        'put a copy there (it is not committed into the project).',
    )
  }
  const trace = JSON.parse(gunzipSync(readFileSync(TRACE_PATH)).toString('utf8')) as Trace
  if (typeof trace.endContent !== 'string' || !Array.isArray(trace.txns)) {
    throw new Error(`${TRACE_PATH} is not a josephg/editing-traces sequential trace`)
  }
  return trace
}

const patchesOf = (trace: Trace): (readonly [number, number, string])[] =>
  trace.txns.flatMap((txn) => txn.patches)

/** Applies one patch (positions in code points; the trace is ASCII, so UTF-16 indexes). */
const applyPatch = (text: Y.Text, [pos, del, ins]: readonly [number, number, string]) => {
  if (del > 0) text.delete(pos, del)
  if (ins.length > 0) text.insert(pos, ins)
}

interface Generated {
  /** One update per patch: the "single operations" mode. */
  readonly single: Uint8Array[]
  /** `Y.mergeUpdates` of `batch` consecutive single updates each. */
  readonly batch: Uint8Array[]
  /** The text after the replayed prefix. */
  readonly expected: string
  readonly patches: number
}

/** A source document replays the first `ops` patches; every transaction's update is kept. */
const generateTraceUpdates = (trace: Trace, ops: number, batch: number): Generated => {
  const patches = patchesOf(trace).slice(0, ops)
  const doc = new Y.Doc()
  doc.clientID = 1
  const text = doc.getText('text')
  if (trace.startContent.length > 0) text.insert(0, trace.startContent)
  const single: Uint8Array[] = []
  if (trace.startContent.length > 0) single.push(Y.encodeStateAsUpdate(doc))
  doc.on('update', (update: Uint8Array) => single.push(update))
  for (const patch of patches) doc.transact(() => applyPatch(text, patch))
  const merged: Uint8Array[] = []
  for (let i = 0; i < single.length; i += batch) {
    merged.push(Y.mergeUpdates(single.slice(i, i + batch)))
  }
  return { single, batch: merged, expected: text.toString(), patches: patches.length }
}

/** Deterministic PRNG (mulberry32). */
const random = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Keystrokes {
  /** Update 0 is the whole document; then one update per keystroke. */
  readonly updates: Uint8Array[]
  readonly expected: string
  readonly documentChars: number
  readonly documentBytes: number
}

/**
 * The ~100-page document: the whole trace replayed `copies` times, each copy appended after the
 * previous one, so the document carries a real editing history (items, tombstones); then
 * `count` single-character inserts at random positions by another client.
 */
const generateKeystrokes = (trace: Trace, copies: number, count: number, seed: number) => {
  const patches = patchesOf(trace)
  const doc = new Y.Doc()
  doc.clientID = 1
  const text = doc.getText('text')
  for (let copy = 0; copy < copies; copy++) {
    const base = text.length
    for (const [pos, del, ins] of patches) {
      doc.transact(() => applyPatch(text, [base + pos, del, ins]))
    }
  }
  const documentChars = text.length
  const first = Y.encodeStateAsUpdate(doc)
  const updates: Uint8Array[] = [first]
  const typist = new Y.Doc()
  typist.clientID = 2
  Y.applyUpdate(typist, first)
  const typed = typist.getText('text')
  typist.on('update', (update: Uint8Array) => updates.push(update))
  const next = random(seed)
  const letters = 'abcdefghijklmnopqrstuvwxyz '
  for (let i = 0; i < count; i++) {
    const at = Math.floor(next() * (typed.length + 1))
    typed.insert(at, letters[Math.floor(next() * letters.length)] ?? 'x')
  }
  return { updates, expected: typed.toString(), documentChars, documentBytes: first.length }
}

/** `u32 count, count × u32 length, bytes…`, little endian (read by the page's `splitUpdates`). */
const packUpdates = (updates: readonly Uint8Array[]): Buffer => {
  const header = Buffer.alloc(4 + 4 * updates.length)
  header.writeUInt32LE(updates.length, 0)
  updates.forEach((update, i) => header.writeUInt32LE(update.length, 4 + 4 * i))
  return Buffer.concat([header, ...updates])
}

// ---------------------------------------------------------------------------------------------
// Page server: cross-origin isolated, so that performance.now() has 5 µs resolution (not 100 µs)

const PAGE_HTML =
  '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">' +
  '<link rel="stylesheet" href="/quill.core.css">' +
  // Same box for every variant: an 800 px column, the body scrolls (like a long document).
  '<style>body{margin:0;font:16px/1.4 sans-serif}.host{width:800px;margin:0 auto}' +
  '.host>[contenteditable]{outline:none;padding:12px 15px}</style>' +
  '<script type="module" src="/bench.js"></script>'

// ---------------------------------------------------------------------------------------------
// CPU of the rest of the machine during a run (the machine is shared)

const measureOthers = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
  const machine = machineBusyMs()
  const own = ownTreeCpuMs()
  const start = performance.now()
  const result = await run()
  const elapsed = performance.now() - start
  const others = machineBusyMs() - machine - (ownTreeCpuMs() - own)
  return [result, Math.max(0, (others / elapsed) * 100)]
}

// ---------------------------------------------------------------------------------------------
// Runs

type Harness = { traceBench: TraceBench }

interface ReplayRecord {
  readonly kind: 'replay'
  readonly round: number
  readonly variant: Variant
  readonly mode: Mode
  readonly updates: number
  readonly result: ReplayResult
  readonly check: TextCheck
  readonly otherCpuPct: number
}

interface KeystrokeRecord {
  readonly kind: 'keystrokes'
  readonly round: number
  readonly variant: Variant
  readonly result: KeystrokeResult
  readonly check: TextCheck
  readonly otherCpuPct: number
}

const withPage = async <T>(
  browser: Browser,
  url: string,
  label: string,
  run: (page: Page) => Promise<T>,
): Promise<T> => {
  // A fresh context (and renderer) per run: no JIT state, heap or DOM carried over.
  const { context, page } = await openPage(browser, url, label, 'traceBench')
  try {
    const info = await page.evaluate(() => (globalThis as unknown as Harness).traceBench.info())
    if (!info.crossOriginIsolated) throw new Error('the bench page is not cross-origin isolated')
    return await run(page)
  } finally {
    await context.close()
  }
}

const replayOnce = (
  browser: Browser,
  url: string,
  round: number,
  variant: Variant,
  mode: Mode,
  expected: string,
): Promise<ReplayRecord> =>
  withPage(browser, url, `${variant} ${mode}`, async (page) => {
    const updates = await page.evaluate(
      ([name, file]) => (globalThis as unknown as Harness).traceBench.load(name, file),
      [mode, `/${mode}.bin`] as const,
    )
    await page.evaluate((v) => (globalThis as unknown as Harness).traceBench.setup(v), variant)
    const [result, otherCpuPct] = await measureOthers(() =>
      page.evaluate((name) => (globalThis as unknown as Harness).traceBench.replay(name), mode),
    )
    const check = await page.evaluate(
      (text) => (globalThis as unknown as Harness).traceBench.check(text),
      expected,
    )
    return { kind: 'replay', round, variant, mode, updates, result, check, otherCpuPct }
  })

const keystrokesOnce = (
  browser: Browser,
  url: string,
  round: number,
  variant: Variant,
  expected: string,
  warmup: number,
): Promise<KeystrokeRecord> =>
  withPage(browser, url, `${variant} keystrokes`, async (page) => {
    await page.evaluate(() =>
      (globalThis as unknown as Harness).traceBench.load('keys', '/keys.bin'),
    )
    await page.evaluate((v) => (globalThis as unknown as Harness).traceBench.setup(v), variant)
    // COEDIT_BENCH_CPU_PROFILE=1: a V8 CPU profile of the keystroke phase per variant, for
    // finding where a keystroke's time goes (open it in Chromium DevTools → Performance).
    const profiler = process.env['COEDIT_BENCH_CPU_PROFILE']
      ? await page.context().newCDPSession(page)
      : undefined
    if (profiler !== undefined) {
      await profiler.send('Profiler.enable')
      await profiler.send('Profiler.setSamplingInterval', { interval: 100 })
      await profiler.send('Profiler.start')
    }
    const [result, otherCpuPct] = await measureOthers(() =>
      page.evaluate(
        (w) => (globalThis as unknown as Harness).traceBench.keystrokes('keys', w),
        warmup,
      ),
    )
    if (profiler !== undefined) {
      const { profile } = await profiler.send('Profiler.stop')
      const dir = join(BENCH_DIR, 'results')
      mkdirSync(dir, { recursive: true })
      const file = join(dir, `keys-${variant}-round${round}.cpuprofile`)
      writeFileSync(file, JSON.stringify(profile))
      console.log(`CPU profile: ${file}`)
    }
    const check = await page.evaluate(
      (text) => (globalThis as unknown as Harness).traceBench.check(text),
      expected,
    )
    return { kind: 'keystrokes', round, variant, result, check, otherCpuPct }
  })

// ---------------------------------------------------------------------------------------------
// Summaries

const label = (variant: Variant): string => {
  switch (variant) {
    case 'bare':
      return `bare \`Y.Text\` (yjs ${packageVersion('node_modules/yjs/package.json')})`
    case 'ce':
      return '`bindContentEditable`'
    case 'quill':
      return `\`bindQuill\` (Quill ${packageVersion('node_modules/quill/package.json')})`
    case 'y-quill':
      return `stock y-quill ${packageVersion('node_modules/y-quill/package.json')} \`QuillBinding\``
  }
}

interface ReplaySummary {
  readonly variant: Variant
  readonly mode: Mode
  readonly runs: readonly ReplayRecord[]
  readonly totalMs: number
  readonly renderMs: number
  readonly layoutMs: number
  readonly p50: number
  readonly p99: number
  readonly correct: number
}

const summarizeReplay = (runs: readonly ReplayRecord[], variant: Variant, mode: Mode) => {
  const mine = runs.filter((run) => run.variant === variant && run.mode === mode)
  const summary: ReplaySummary = {
    variant,
    mode,
    runs: mine,
    totalMs: median(mine.map((run) => run.result.totalMs)),
    renderMs: median(mine.map((run) => run.result.renderMs)),
    layoutMs: median(mine.map((run) => run.result.layoutMs)),
    p50: median(mine.map((run) => run.result.perUpdate.p50)),
    p99: median(mine.map((run) => run.result.perUpdate.p99)),
    correct: mine.filter((run) => run.check.ok).length,
  }
  return summary
}

const replayTable = (summaries: readonly ReplaySummary[], patches: number): string => {
  const lines = [
    '| mode | variant | updates | total ms | ops/s | ÷ bare | per update p50 / p99 ms | deferred render ms | final layout ms | correct runs |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const summary of summaries) {
    const bare = summaries.find((s) => s.mode === summary.mode && s.variant === 'bare')
    const versus =
      summary.variant === 'bare'
        ? '1.00×'
        : bare === undefined
          ? '–'
          : `${fixed(summary.totalMs / bare.totalMs, 2)}×`
    lines.push(
      `| ${summary.mode === 'single' ? 'single ops' : 'batches'} | ${label(summary.variant)} | ` +
        `${thousands(summary.runs[0]?.updates ?? Number.NaN)} | ${fixed(summary.totalMs, 0)} | ` +
        `${thousands((patches / summary.totalMs) * 1000)} | ${versus} | ` +
        `${ms(summary.p50)} / ${ms(summary.p99)} | ${fixed(summary.renderMs, 1)} | ` +
        `${fixed(summary.layoutMs, 1)} | ` +
        `${summary.correct}/${summary.runs.length} |`,
    )
  }
  return lines.join('\n')
}

interface KeystrokeSummary {
  readonly variant: Variant
  readonly runs: readonly KeystrokeRecord[]
  readonly loadMs: number
  readonly applied: { p50: number; p90: number; max: number }
  readonly withLayout: { p50: number; p90: number; max: number }
  readonly correct: number
}

const summarizeKeystrokes = (runs: readonly KeystrokeRecord[], variant: Variant) => {
  const mine = runs.filter((run) => run.variant === variant)
  const pick = (get: (run: KeystrokeRecord) => Quantiles) => ({
    p50: median(mine.map((run) => get(run).p50)),
    p90: median(mine.map((run) => get(run).p90)),
    max: median(mine.map((run) => get(run).max)),
  })
  const summary: KeystrokeSummary = {
    variant,
    runs: mine,
    loadMs: median(mine.map((run) => run.result.loadMs)),
    applied: pick((run) => run.result.applied),
    withLayout: pick((run) => run.result.withLayout),
    correct: mine.filter((run) => run.check.ok).length,
  }
  return summary
}

const keystrokeTable = (summaries: readonly KeystrokeSummary[]): string => {
  const lines = [
    '| variant | load the document ms | keystroke applied p50 / p90 / max ms | with forced layout p50 / p90 / max ms | correct runs |',
    '|---|---:|---:|---:|---:|',
  ]
  for (const summary of summaries) {
    const q = (value: { p50: number; p90: number; max: number }) =>
      `${ms(value.p50)} / ${ms(value.p90)} / ${ms(value.max)}`
    lines.push(
      `| ${label(summary.variant)} | ${fixed(summary.loadMs, 0)} | ${q(summary.applied)} | ` +
        `${q(summary.withLayout)} | ${summary.correct}/${summary.runs.length} |`,
    )
  }
  return lines.join('\n')
}

const verdict = (
  replays: readonly ReplaySummary[],
  keystrokes: readonly KeystrokeSummary[],
): string[] => {
  const lines: string[] = []
  for (const mode of MODES) {
    const of = (variant: Variant) =>
      replays.find((summary) => summary.mode === mode && summary.variant === variant)
    const [bare, ce, yQuill, quill] = [of('bare'), of('ce'), of('y-quill'), of('quill')]
    if (ce === undefined) continue
    const name = mode === 'single' ? 'single ops' : 'batches'
    if (bare !== undefined) {
      const ratio = ce.totalMs / bare.totalMs
      lines.push(
        `- ${name}: \`bindContentEditable\` takes ${fixed(ratio, 2)}× a bare \`Y.Text\` ` +
          `(target ≤ ${MAX_CE_RATIO}×): ${mark(ratio <= MAX_CE_RATIO)}.`,
      )
    }
    for (const other of [yQuill, quill]) {
      if (other === undefined) continue
      lines.push(
        `- ${name}: \`bindContentEditable\` ${fixed(ce.totalMs, 0)} ms vs ${label(other.variant)} ` +
          `${fixed(other.totalMs, 0)} ms (target: faster): ${mark(ce.totalMs < other.totalMs)}.`,
      )
    }
  }
  for (const summary of keystrokes) {
    if (summary.variant === 'bare') continue
    lines.push(
      `- 100-page document, ${label(summary.variant)}: remote keystroke applied in ` +
        `${ms(summary.applied.p50)} ms median (target < ${MAX_KEYSTROKE_P50_MS} ms): ` +
        `${mark(summary.applied.p50 < MAX_KEYSTROKE_P50_MS)}; ${ms(summary.withLayout.p50)} ms ` +
        'with layout.',
    )
  }
  const all = [...replays, ...keystrokes]
  const correct = all.reduce((sum, summary) => sum + summary.correct, 0)
  const runs = all.reduce((sum, summary) => sum + summary.runs.length, 0)
  lines.push(
    `- Correctness: ${correct}/${runs} runs ended with the expected text in the \`Y.Text\` and ` +
      "in the editor's DOM.",
  )
  return lines
}

const runsTable = (runs: readonly (ReplayRecord | KeystrokeRecord)[]): string => {
  const lines = [
    '| round | variant | run | total or load ms | per update p50 / p99 / max ms | other processes CPU % | correct |',
    '|---:|---|---|---:|---:|---:|---|',
  ]
  for (const run of runs) {
    const [what, total, q] =
      run.kind === 'replay'
        ? [run.mode, run.result.totalMs, run.result.perUpdate]
        : ['keystrokes (applied)', run.result.loadMs, run.result.applied]
    lines.push(
      `| ${run.round} | ${run.variant} | ${what} | ${fixed(total, 0)} | ` +
        `${ms(q.p50)} / ${ms(q.p99)} / ${ms(q.max)} | ${fixed(run.otherCpuPct, 0)} | ` +
        `${run.check.ok ? 'yes' : `**no**: ${run.check.detail ?? 'Y.Text differs'}`} |`,
    )
  }
  return lines.join('\n')
}

const machine = (chromium: string) => describeMachine(`, Chromium ${chromium} (headless)`)

/** Why the figures are what they are (true of the bindings as of this benchmark's writing). */
const READING = [
  '### Reading the results',
  '',
  '- Yjs computes `YTextEvent.delta` by walking every item of the text from its start, on every ' +
    'event, so any binding that reads it pays O(document) per remote keystroke (y-quill does; ' +
    'Quill 2 then also recomputes its whole document delta after every `updateContents`: ' +
    '`Editor.update` → `getDelta()`, `compose`, `isEqual`). `bindContentEditable` reads the delta ' +
    'from the change itself instead (`sdk/src/bindings/event-delta.ts`): the changed items ' +
    'come from the transaction, their indexes from checkpoints spread through the text (one per ' +
    '~64 items, shifted by every delta), and Yjs’s own delta is used only for what that cannot ' +
    'tell (a format changing, unknown attributes). `event-delta.test.ts` checks it against ' +
    '`event.delta` on random concurrent edits.',
  '- It applies each delta to its line model incrementally (a Fenwick index of line offsets; only ' +
    'the lines a delta touches are rebuilt) and renders other peers’ changes once per animation ' +
    'frame. In this replay every update lands in one task, so the whole trace costs one render at ' +
    'the end (the "deferred render" column, inside the total); in a page, where updates arrive in ' +
    'separate tasks, a burst costs one render per frame instead of one per update. The DOM is ' +
    'brought up to date before the browser edits it (`beforeinput`), before cursors are drawn, ' +
    'and on `flush()`.',
  '- The 100-page keystrokes land at random positions, the hardest case for finding an index; ' +
    'each is rendered (`flush()`) inside its measurement. "With forced layout" adds Chromium’s ' +
    'style and layout of a ~3,500-block element, the same for any binding.',
  '- The machine is shared: compare the "other processes CPU" column before reading much into ' +
    'differences of less than 1.5× between binding totals.',
]

const methodSection = (options: Options, patches: number, keys: Keystrokes | undefined) => {
  const prefix =
    options.ops === 'all'
      ? `all ${thousands(patches)} patches`
      : `the first ${thousands(patches)} of its 259,778 patches (the same prefix for every ` +
        'variant; `--ops all` replays the whole trace)'
  return [
    '## Editor bindings under a real editing trace (issue 4)',
    '',
    '`bench/binding-trace.ts` replays the automerge-paper editing trace (259,778 single-character ' +
      'edits, CC BY 4.0, read from `../shared/data/automerge-paper.json.gz`, never committed) as ' +
      'remote Yjs updates into a `Y.Text` bound to a `contenteditable` element ' +
      '(`bindContentEditable`), to Quill 2 (`bindQuill`) and to Quill 2 through stock y-quill ' +
      '(`QuillBinding`, what `bindQuill` wraps), and the same updates into a bare `Y.Text`, in ' +
      'headless Chromium. Chromium runs inside the private network namespace of ' +
      '`scripts/in-netns.mjs` (root needed); the script refuses to run anywhere else. Not part ' +
      'of `npm test`, never run in CI.',
    '',
    '```sh',
    'npm run bench:bindings                    # 3 rounds, prints the tables',
    'npm run bench:bindings -- --write-readme  # … and replaces this section',
    'npm run bench:bindings -- --ops all --rounds 1 --variants bare,ce   # the whole trace',
    'npm run bench:bindings -- --help',
    '```',
    '',
    '### Method',
    '',
    `- **Updates**, generated in Node before the browser starts: a source \`Y.Doc\` replays ${prefix}. ` +
      'Each patch is one transaction, and its Yjs update is one "single operation"; "batches" ' +
      `are \`Y.mergeUpdates\` of ${options.batch} consecutive single updates (what a provider ` +
      'catching up delivers). They reach the page as one binary file from the static server ' +
      '(loaded before the clock starts).',
    '- **Variants**, each in a fresh browser context (its own renderer), one page, a fresh ' +
      '`Y.Doc`: bare (nothing observes the `Y.Text`); `bindContentEditable(ytext, div)` on an ' +
      'empty `contenteditable` div; `bindQuill(ytext, quill)` and stock y-quill ' +
      "`new QuillBinding(ytext, quill)` on `new Quill(el, { modules: { toolbar: false } })` with Quill's " +
      'core CSS. Same page, same 800 px column for all.',
    '- **Timing**, inside the page with `performance.now()` (cross-origin isolated page: 5 µs ' +
      'resolution): each update is `Y.applyUpdate(doc, update, remoteOrigin)` followed by one ' +
      'awaited microtask, so MutationObserver callbacks and other microtask work count; that is ' +
      'the per-update latency. All updates are applied in one task (the page renders nothing in ' +
      'between); the total runs from the first update to a forced layout (`offsetHeight`) after ' +
      'the last, so layout deferred by the editors is counted. `bindContentEditable` renders ' +
      "other peers' changes once per animation frame and no frame comes during the replay, so " +
      'its total also includes the `flush()` that renders them after the last update ' +
      '("deferred render"), and its per-update latency is model work only. ops/s = trace patches ' +
      '÷ total; "÷ bare" divides totals of the same mode.',
    ...(keys === undefined
      ? []
      : [
          `- **A 100-page document stays responsive**: the whole trace replayed ${options.copies}× ` +
            `end to end (${thousands(keys.documentChars)} characters ≈ ` +
            `${fixed(keys.documentChars / CHARS_PER_PAGE, 0)} pages of ${thousands(CHARS_PER_PAGE)}, ` +
            `with its real item structure; a ${thousands(keys.documentBytes / 1024)} KB update) is ` +
            'loaded into each variant (load time includes rendering and a forced layout), then ' +
            `another client's ${options.warmup} warm-up + ${options.keystrokes} measured ` +
            'single-character inserts at random positions (seeded) arrive one per animation frame. ' +
            '"Applied" is `applyUpdate` + microtasks + rendering (the contenteditable binding\'s ' +
            '`flush()`, since it would otherwise render at the next frame); "with forced layout" ' +
            'adds `offsetHeight` ' +
            '(style and layout of the change, not paint).',
        ]),
    '- **Correctness**, after every run: the `Y.Text` equals the expected text and the DOM shows ' +
      'it (the text of its block elements joined by newlines).',
    `- **Interleaving**: rounds run every variant and mode in turn, ${options.rounds} times; the ` +
      "tables give medians over rounds of each run's figures (per-update quantiles are nearest " +
      'rank within a run). Other processes on the shared 2-core machine show in the last table.',
    '',
    'Raw results of every invocation (JSON and markdown) go to `bench/results/` (not committed).',
  ]
}

// ---------------------------------------------------------------------------------------------

const main = async () => {
  const argv = process.argv.slice(2)
  const options = parseOptions(argv)
  requireTestNamespace('bench:bindings')
  const command = commandLine('bench:bindings', argv)
  const startedAt = new Date()

  const trace = readTrace()
  const total = patchesOf(trace).length
  const ops = options.ops === 'all' ? total : Math.min(options.ops, total)
  let clock = performance.now()
  const generated = generateTraceUpdates(trace, ops, options.batch)
  process.stdout.write(
    `trace: ${thousands(total)} patches; replaying ${thousands(ops)}: ` +
      `${thousands(generated.single.length)} single updates, ${thousands(generated.batch.length)} ` +
      `batches of ${options.batch} (${fixed((performance.now() - clock) / 1000, 1)} s)\n`,
  )
  let keys: Keystrokes | undefined
  if (options.keystrokes > 0) {
    clock = performance.now()
    keys = generateKeystrokes(
      trace,
      options.copies,
      options.warmup + options.keystrokes,
      options.seed,
    )
    process.stdout.write(
      `100-page document: ${thousands(keys.documentChars)} chars, ` +
        `${thousands(keys.documentBytes / 1024)} KB update (${fixed((performance.now() - clock) / 1000, 1)} s)\n`,
    )
  }

  const bundle = await buildBrowserBundle(join(BENCH_DIR, 'fixtures', 'binding-trace-entry.ts'))
  const web = await startStaticServer(
    {
      '/index.html': PAGE_HTML,
      '/bench.js': bundle,
      '/quill.core.css': readFileSync(
        join(ROOT_DIR, 'node_modules', 'quill', 'dist', 'quill.core.css'),
      ),
      '/single.bin': packUpdates(generated.single),
      '/batch.bin': packUpdates(generated.batch),
      ...(keys === undefined ? {} : { '/keys.bin': packUpdates(keys.updates) }),
    },
    { crossOriginIsolated: true },
  )
  let browser: Browser | undefined
  const replays: ReplayRecord[] = []
  const keystrokeRuns: KeystrokeRecord[] = []
  try {
    browser = await launchBenchChromium()
    process.stdout.write(
      `Chromium ${browser.version()}; ${options.rounds} rounds × ${options.variants.join(', ')}\n`,
    )
    for (let round = 1; round <= options.rounds; round++) {
      for (const variant of options.variants) {
        for (const mode of options.modes) {
          const run = await replayOnce(browser, web.url, round, variant, mode, generated.expected)
          replays.push(run)
          const q = run.result.perUpdate
          process.stdout.write(
            `round ${round} ${variant.padEnd(7)} ${mode.padEnd(6)} total ${fixed(run.result.totalMs, 0)} ms ` +
              `(${thousands((ops / run.result.totalMs) * 1000)} ops/s, render ${fixed(run.result.renderMs, 1)} ms, layout ${fixed(run.result.layoutMs, 1)} ms) ` +
              `per update p50/p99/max ${ms(q.p50)}/${ms(q.p99)}/${ms(q.max)} ms ` +
              `others ${fixed(run.otherCpuPct, 0)}% ${run.check.ok ? 'ok' : `FAILED ${run.check.detail ?? 'Y.Text differs'}`}\n`,
          )
        }
        if (keys !== undefined) {
          const run = await keystrokesOnce(
            browser,
            web.url,
            round,
            variant,
            keys.expected,
            options.warmup,
          )
          keystrokeRuns.push(run)
          const { applied, withLayout } = run.result
          process.stdout.write(
            `round ${round} ${variant.padEnd(7)} keys   load ${fixed(run.result.loadMs, 0)} ms ` +
              `(${run.result.blocks} blocks) applied p50/p90/max ${ms(applied.p50)}/${ms(applied.p90)}/${ms(applied.max)} ms, ` +
              `with layout ${ms(withLayout.p50)}/${ms(withLayout.p90)}/${ms(withLayout.max)} ms ` +
              `others ${fixed(run.otherCpuPct, 0)}% ${run.check.ok ? 'ok' : `FAILED ${run.check.detail ?? 'Y.Text differs'}`}\n`,
          )
        }
      }
    }

    const replaySummaries = options.modes.flatMap((mode) =>
      options.variants.map((variant) => summarizeReplay(replays, variant, mode)),
    )
    const keystrokeSummaries =
      keys === undefined
        ? []
        : options.variants.map((variant) => summarizeKeystrokes(keystrokeRuns, variant))
    const results = [
      measuredLine(startedAt, machine(browser.version())),
      '',
      ...reproduceLines(command),
      '',
      ...(options.modes.length === 0
        ? []
        : [
            `**Trace replay**: ${thousands(ops)} patches of the automerge-paper trace` +
              `${ops < total ? ` (a prefix of ${thousands(total)}; ${thousands(generated.expected.length)} characters at the end)` : ''}, ` +
              `as ${thousands(generated.single.length)} single-op updates and as ` +
              `${thousands(generated.batch.length)} batches of ${options.batch}. Medians over ` +
              `${options.rounds} interleaved rounds.`,
            '',
            replayTable(replaySummaries, ops),
            '',
          ]),
      ...(keys === undefined
        ? []
        : [
            `**100-page document** (${thousands(keys.documentChars)} characters): load, then ` +
              `${options.keystrokes} remote single-character inserts at random positions, one per ` +
              `frame. Medians over ${options.rounds} rounds of each run's quantiles.`,
            '',
            keystrokeTable(keystrokeSummaries),
            '',
          ]),
      ...verdict(replaySummaries, keystrokeSummaries),
      '',
      '<details><summary>Every run</summary>',
      '',
      runsTable([...replays, ...keystrokeRuns].sort((a, b) => a.round - b.round)),
      '',
      '</details>',
    ]
    const section = [
      ...methodSection(options, ops, keys),
      '',
      '### Results',
      '',
      ...results,
      '',
      ...READING,
    ]
    process.stdout.write(
      `\n${replaySummaries.length > 0 ? replayTable(replaySummaries, ops) + '\n\n' : ''}` +
        `${keystrokeSummaries.length > 0 ? keystrokeTable(keystrokeSummaries) + '\n\n' : ''}` +
        `${verdict(replaySummaries, keystrokeSummaries).join('\n')}\n`,
    )

    saveResults({
      prefix: 'bindings-',
      startedAt,
      json: {
        command,
        options,
        ops,
        chromium: browser.version(),
        replays,
        keystrokes: keystrokeRuns,
      },
      markdown: section.join('\n'),
      readmeSection: options.writeReadme ? 'bindings' : undefined,
    })
  } finally {
    await browser?.close()
    await web.close()
  }
}

runMain(main)

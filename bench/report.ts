/**
 * What every benchmark's markdown report has in common: when and where it was measured, how to
 * reproduce it, and where it is kept (`bench/results/<stamp>.{json,md}`, and its section of
 * bench/README.md with `--write-readme`).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeReadmeSection } from './readme-section.js'
import { BENCH_DIR } from './servers.js'

/** `Measured 2026-01-31 12:34 UTC on <machine>.`, to the minute. */
export const measuredLine = (startedAt: Date, machine: string): string =>
  `Measured ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}.`

/** The command that ran, as the reader would type it: `npm run <script> -- <flags>`. */
export const commandLine = (script: string, argv: readonly string[]): string =>
  [`npm run ${script}`, ...(argv.length > 0 ? ['--', ...argv] : [])].join(' ')

/** The "Reproduce with" block (markdown lines) for `command`. */
export const reproduceLines = (command: string): string[] => [
  'Reproduce with:',
  '',
  '```sh',
  command,
  '```',
]

/**
 * Writes the raw results (`json`, pretty-printed) and the `markdown` report to bench/results/,
 * named `<prefix><startedAt>`, and with `readmeSection` the markdown into that section of
 * bench/README.md too; then prints where they went.
 */
export const saveResults = (options: {
  readonly prefix: string
  readonly startedAt: Date
  readonly json: unknown
  readonly markdown: string
  readonly readmeSection: string | undefined
}): void => {
  const resultsDir = join(BENCH_DIR, 'results')
  mkdirSync(resultsDir, { recursive: true })
  const stamp = `${options.prefix}${options.startedAt.toISOString().replace(/[:.]/g, '-')}`
  writeFileSync(join(resultsDir, `${stamp}.json`), JSON.stringify(options.json, null, 2))
  writeFileSync(join(resultsDir, `${stamp}.md`), options.markdown)
  if (options.readmeSection !== undefined) {
    writeReadmeSection(options.readmeSection, options.markdown)
  }
  process.stdout.write(
    `\nResults: bench/results/${stamp}.md${options.readmeSection !== undefined ? ' and bench/README.md' : ''}\n`,
  )
}

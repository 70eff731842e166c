/**
 * Command-line plumbing shared by the benchmark scripts: flags parsed strictly with `--help`
 * printing the script's usage, the number and list checks their flags need, and a `main` that
 * reports a failure with its stack and exit code 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'

type FlagsConfig = NonNullable<ParseArgsConfig['options']>

/**
 * Parses `argv` against `options`, strictly (an unknown flag is an error);
 * `--help` prints `usage`.
 */
export const parseFlags = <const O extends FlagsConfig>(
  argv: readonly string[],
  options: O,
  usage: string,
) => {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: { ...options, help: { type: 'boolean', default: false } },
  })
  // The values' type is only known where `options` is; `help` is there in every case.
  if ((values as { help?: boolean }).help === true) {
    process.stdout.write(usage)
    process.exit(0)
  }
  return values
}

/** A number > 0 (fractions allowed: `--rate 0.5`). */
export const positive = (flag: string, text: string): number => {
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${flag} must be > 0: ${text}`)
  return value
}

/** A whole number > 0. */
export const integer = (flag: string, text: string): number => {
  const value = positive(flag, text)
  if (!Number.isInteger(value)) throw new Error(`--${flag} must be an integer: ${text}`)
  return value
}

/** A whole number ≥ `min`. */
export const count = (flag: string, text: string, min: number): number => {
  const value = Number(text)
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`--${flag} must be an integer ≥ ${min}: ${text}`)
  }
  return value
}

/**
 * A comma-separated list of names out of `allowed` (empty items ignored); the error for an unknown
 * one says what kind of name it expected (`kind`, e.g. "server") and lists the allowed ones.
 */
export const choices = <T extends string>(
  flag: string,
  text: string,
  allowed: readonly T[],
  kind = '',
): T[] =>
  text
    .split(',')
    .filter(Boolean)
    .map((item) => {
      if (!(allowed as readonly string[]).includes(item)) {
        throw new Error(
          `--${flag}: unknown ${kind === '' ? '' : `${kind} `}"${item}" (${allowed.join(', ')})`,
        )
      }
      return item as T
    })

/** Runs the script's `main`; a failure prints its stack and exits with 1. */
export const runMain = (main: () => Promise<void>): void => {
  main().catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exit(1)
  })
}

/**
 * The `coedit.js` script bundle (built by `@coedit/sdk`) as the server holds it: read from disk,
 * hashed — SHA-256 names the immutable URL, SHA-384 is the Subresource Integrity value — and kept
 * in memory. One `stat` per request notices a rebuild (inode, size or mtime changed) and re-reads
 * the file, so `npm run build` during development needs no restart.
 *
 * HTTP lives in `script-routes.ts`; this module knows files and hashes only.
 */
import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { CoeditError } from '@coedit/sdk/protocol'
import type { Logger } from 'pino'

/** Where the SDK workspace exports its bundle (`sdk/package.json`, `exports["./coedit.js"]`). */
const SDK_BUNDLE_SPECIFIER = '@coedit/sdk/coedit.js'

/** Length of the content hash in `/coedit.<hash>.js`: 48 bits, plenty for versions of one file. */
export const BUNDLE_HASH_LENGTH = 12

export interface BundleVersion {
  readonly content: Buffer
  /** First 12 hex digits of the SHA-256 of `content`: the immutable URL `/coedit.<hash>.js`. */
  readonly hash: string
  /** `sha384-<base64>`, for `<script integrity>`. */
  readonly integrity: string
}

export interface ScriptBundle {
  /** Absolute path of the bundle file. */
  readonly path: string
  /** The bundle as it is on disk now; undefined while the file is missing (e.g. mid-rebuild). */
  current(): Promise<BundleVersion | undefined>
}

export const bundleVersionOf = (content: Buffer): BundleVersion => ({
  content,
  hash: createHash('sha256').update(content).digest('hex').slice(0, BUNDLE_HASH_LENGTH),
  integrity: `sha384-${createHash('sha384').update(content).digest('base64')}`,
})

const isMissing = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/** Reads the bundle at `path` whenever it changed on disk since the last request. */
export const createScriptBundle = (path: string, logger: Logger): ScriptBundle => {
  let cached: {
    readonly key: string
    readonly version: Promise<BundleVersion | undefined>
  } | null = null
  // Logged once per disappearance, not once per request.
  let missing = false

  const report = (error: unknown) => {
    if (!isMissing(error)) {
      logger.error({ err: error, path }, 'reading the script bundle failed')
    } else if (!missing) {
      missing = true
      logger.warn({ path }, 'script bundle missing; /coedit.js answers 404 until it is rebuilt')
    }
  }

  const read = async (key: string): Promise<BundleVersion | undefined> => {
    try {
      const version = bundleVersionOf(await readFile(path))
      missing = false
      return version
    } catch (error) {
      report(error)
      // Not remembered: the next request tries again even if the file looks unchanged.
      if (cached?.key === key) cached = null
      return undefined
    }
  }

  return {
    path,
    async current() {
      let stats
      try {
        stats = await stat(path)
      } catch (error) {
        report(error)
        return undefined
      }
      const key = `${stats.ino}:${stats.size}:${stats.mtimeMs}`
      // Concurrent requests after a rebuild share one read.
      if (cached?.key !== key) cached = { key, version: read(key) }
      return cached.version
    },
  }
}

/** The SDK's built bundle, or undefined when it is not built (or the SDK is not installed). */
export const defaultScriptBundlePath = (): string | undefined => {
  let path: string
  try {
    path = createRequire(import.meta.url).resolve(SDK_BUNDLE_SPECIFIER)
  } catch {
    // Not exported yet, or the export's target does not exist: not built.
    return undefined
  }
  return existsSync(path) ? path : undefined
}

/**
 * The bundle the server option asks for: `false` → none; a path → that file (it must exist:
 * a typo should fail at startup, not as a 404 later); absent → the SDK's build if there is one,
 * else none, with one log line saying how to build it.
 */
export const openScriptBundle = (
  option: string | false | undefined,
  logger: Logger,
): ScriptBundle | undefined => {
  if (option === false) return undefined
  if (option === undefined) {
    const path = defaultScriptBundlePath()
    if (path === undefined) {
      logger.info('script bundle not built: run `npm run build`; /coedit.js will answer 404')
      return undefined
    }
    return createScriptBundle(path, logger)
  }
  const path = resolve(option)
  let isFile = false
  try {
    isFile = statSync(path).isFile()
  } catch (error) {
    if (!isMissing(error)) throw error
  }
  if (!isFile) {
    throw new CoeditError(
      'script-bundle-missing',
      `Script bundle ${path} not found: build it with \`npm run build\`, pass another file ` +
        'with --script-bundle, or --no-script-bundle to serve none.',
    )
  }
  return createScriptBundle(path, logger)
}

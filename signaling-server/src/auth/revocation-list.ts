/**
 * Revocation (R30): a JSON file listing revoked subjects (user ids) and token ids, re-read when it
 * changes. Connections whose grant matches are closed within ~1 s of the file changing, and such
 * tokens are refused at connect. A file, not an API: operators manage it with whatever already
 * manages their config, and each instance reads its own copy.
 *
 * File format: `{ "subjects": ["user-42"], "tokens": ["<jti>"] }` (both optional).
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs'
import type { Logger } from 'pino'
import type { TokenGrant } from './token-verifier.js'

export interface RevocationList {
  isRevoked(grant: TokenGrant): boolean
  /** Called after the list changed (the server closes revoked connections). */
  onChange(listener: () => void): void
  destroy(): void
}

interface Revoked {
  subjects: Set<string>
  tokens: Set<string>
}

const strings = (value: unknown, field: string, path: string): string[] => {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new Error(`${path}: "${field}" must be an array of strings`)
  }
  return value
}

const read = (path: string): Revoked => {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'))
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${path}: not a JSON object`)
  const record = parsed as Record<string, unknown>
  return {
    subjects: new Set(strings(record['subjects'], 'subjects', path)),
    tokens: new Set(strings(record['tokens'], 'tokens', path)),
  }
}

/**
 * Loads `path` (throws at start if it is unreadable or malformed: a misconfiguration) and watches
 * it every `intervalMs` (default 1000). A later bad edit keeps the last good list and logs why.
 */
export const createRevocationList = (options: {
  path: string
  logger: Logger
  intervalMs?: number
}): RevocationList => {
  const { path, logger } = options
  let revoked = read(path)
  const listeners: (() => void)[] = []
  const reload = () => {
    try {
      revoked = read(path)
    } catch (error) {
      logger.error({ err: error }, 'revocation list unreadable; keeping the previous one')
      return
    }
    logger.info(
      { subjects: revoked.subjects.size, tokens: revoked.tokens.size },
      'revocation list reloaded',
    )
    for (const listener of listeners) listener()
  }
  watchFile(path, { interval: options.intervalMs ?? 1000, persistent: false }, reload)
  return {
    isRevoked: (grant) =>
      (grant.sub !== undefined && revoked.subjects.has(grant.sub)) ||
      (grant.jti !== undefined && revoked.tokens.has(grant.jti)),
    onChange: (listener) => listeners.push(listener),
    destroy: () => unwatchFile(path, reload),
  }
}

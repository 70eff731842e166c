/**
 * What `Coedit.start` accepts: the npm package's `SessionOptions`, a user whose name or colour
 * may be left out (the script tag's attributes are each optional), and the script's own switches.
 * The script's additions are checked here; the session checks the rest.
 */
import { readUser, type User } from '../awareness/presence.js'
import { CoeditError } from '../protocol/errors.js'
import type { SessionOptions } from '../session-options.js'

export interface StartOptions extends Omit<SessionOptions, 'user'> {
  /**
   * Name and colour shown to others. Either may be left out: the defaults are "Guest NNN" and a
   * colour from a fixed palette, both chosen from the document's client id.
   */
  readonly user?: Partial<User>
  /**
   * The presence badge: `true` (default) shows it fixed at the bottom right of the page, an
   * element shows it inside that element, `false` shows none.
   */
  readonly badge?: boolean | HTMLElement
  /** Bind every `[data-coedit]` element and watch for ones added later. Default true. */
  readonly bindAll?: boolean
}

/** Longest name shown; longer names are cut by presence anyway (awareness/presence.ts). */
export const MAX_NAME_LENGTH = 64

/** True for a colour presence accepts (`#rgb`, `#rrggbb`, `#rrggbbaa`). */
export const isUserColor = (color: string): boolean => readUser({ name: '', color }) !== undefined

/** Throws `CoeditError` (code `misuse`) naming the option to fix. */
export const checkStartOptions = (options: StartOptions): void => {
  if (typeof options !== 'object' || options === null) {
    throw new CoeditError('misuse', 'Coedit.start(options): options must be an object')
  }
  const { user, badge, bindAll } = options
  if (user !== undefined) {
    if (typeof user !== 'object' || user === null) {
      throw new CoeditError('misuse', 'start: `user` must be { name?: string, color?: "#rrggbb" }')
    }
    if (user.name !== undefined && (typeof user.name !== 'string' || user.name.trim() === '')) {
      throw new CoeditError('misuse', 'start: `user.name` must be a non-empty string')
    }
    if (user.color !== undefined && (typeof user.color !== 'string' || !isUserColor(user.color))) {
      throw new CoeditError(
        'misuse',
        'start: `user.color` must be "#rgb", "#rrggbb" or "#rrggbbaa"',
      )
    }
  }
  if (badge !== undefined && typeof badge !== 'boolean' && !isElementLike(badge)) {
    throw new CoeditError('misuse', 'start: `badge` must be true, false or an element to hold it')
  }
  if (bindAll !== undefined && typeof bindAll !== 'boolean') {
    throw new CoeditError('misuse', 'start: `bindAll` must be true or false')
  }
}

/** An element of any window (the page may pass one from an iframe). */
const isElementLike = (value: unknown): value is HTMLElement =>
  typeof value === 'object' && value !== null && (value as Node).nodeType === 1

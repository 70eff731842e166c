/**
 * The zero-code path: when the script tag names a room (`data-room` or `data-room-param`), start
 * with its options once the DOM is parsed, so `[data-coedit]` fields after the tag exist. The
 * tag is read at load (a bad attribute throws there, pointing at the tag); `Coedit.start` runs
 * on `DOMContentLoaded`, or at once for a deferred or late-loaded script.
 */
import type { CoeditGlobal } from './coedit-global.js'
import { readScriptConfig, type LocationLike, type ScriptElementLike } from './script-config.js'

export interface AutoStartOptions {
  readonly coedit: Pick<CoeditGlobal, 'start'>
  readonly document: Document
  /** `document.currentScript` as read while the bundle ran at load (null for module scripts). */
  readonly script: ScriptElementLike | null
  readonly location: LocationLike
  /** Where `data-get-token` looks up its function: the page's window. */
  readonly scope: object
}

/** Returns whether a start was scheduled (or done); throws `CoeditError` for a bad attribute. */
export const autoStart = (options: AutoStartOptions): boolean => {
  const { coedit, document: page, script } = options
  if (script === null) return false
  const config = readScriptConfig(script, options.location, options.scope)
  if (config === undefined) return false
  if (page.readyState === 'loading') {
    page.addEventListener('DOMContentLoaded', () => coedit.start(config), { once: true })
  } else {
    coedit.start(config)
  }
  return true
}

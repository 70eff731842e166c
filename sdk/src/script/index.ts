/**
 * Entry of the `coedit.js` script bundle (an IIFE built by `vite.script.config.ts`): defines
 * `window.Coedit` and starts from the script tag's `data-*` attributes when they name a room.
 * Loaded twice, the second copy keeps the first: two sessions on one room would fight.
 *
 * Quill is never part of the bundle; Quill editors come from the page (`window.Quill`).
 */
import { autoStart } from './auto-start.js'
import { createCoeditGlobal, type CoeditGlobal } from './coedit-global.js'

/** Replaced at build time by the package version (vite `define`). */
declare const __COEDIT_VERSION__: string | undefined
const VERSION = typeof __COEDIT_VERSION__ === 'string' ? __COEDIT_VERSION__ : '0.0.0-dev'

// Set only while this script runs at load: read it now, not in a later callback.
const current = document.currentScript
const script = current instanceof HTMLScriptElement ? current : null

const page = window as Window & { Coedit?: CoeditGlobal }
if (page.Coedit !== undefined) {
  console.warn(`coedit: coedit.js loaded twice; keeping the first (${page.Coedit.version})`)
} else {
  const coedit = createCoeditGlobal(document, VERSION)
  page.Coedit = coedit
  autoStart({ coedit, document, script, location, scope: window })
}

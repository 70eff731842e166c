/**
 * Entry of `content.js`, injected on demand (`scripting.executeScript`) into the page's isolated
 * world when the user shares or joins on a tab. Only wiring lives here.
 *
 * Injected again into the same tab (the user shared again, or joined another share), it replaces
 * the previous run instead of adding a second one: the previous run's bindings, port and panel go
 * (the page's DOM stays), and a fresh replica syncs from the host — a replica is never carried
 * from one share to another, since its content would be posted into the new room. The run is kept
 * on the isolated world's `globalThis`, which the page cannot see; nothing is put on the page's
 * `window`.
 */
import browser from 'webextension-polyfill'
import { startContent, type ContentApp } from './lifecycle.js'
import { bindPageQuill } from './page-quill.js'
import { createBrowserRuntime } from './runtime.js'

const RUN = Symbol.for('coedit.content-script')
const scope = globalThis as typeof globalThis & { [RUN]?: ContentApp }

scope[RUN]?.destroy()
scope[RUN] = startContent({
  runtime: createBrowserRuntime(browser),
  document,
  bindQuill: bindPageQuill,
})

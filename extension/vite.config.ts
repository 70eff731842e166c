/**
 * Vite + @crxjs/vite-plugin config for one browser's extension pages and background:
 * `vite build --mode chrome` → `dist/chrome/`, `--mode firefox` → `dist/firefox/`.
 * `npm run build` (scripts/build.mjs) runs both and then adds the two injected scripts, which are
 * separate IIFE builds because they run inside pages (no module loader there).
 *
 * Firefox: crxjs 3 has a `browser: 'firefox'` option, used here. It turns the manifest's
 * `background.scripts` entry into a module loader (`background.scripts: [loader], type: module`),
 * drops Chrome-only `use_dynamic_url` from web-accessible resources, and otherwise builds the
 * same pages. The Firefox-only keys (`browser_specific_settings.gecko`) come from the manifest
 * source (src/manifest.ts), so nothing is patched after the build.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { crx } from '@crxjs/vite-plugin'
import { defineConfig } from 'vite'
import { createManifest, TARGET_BROWSERS, type TargetBrowser } from './src/manifest.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const { version } = JSON.parse(readFileSync(here('./package.json'), 'utf8')) as { version: string }

const isTarget = (mode: string): mode is TargetBrowser =>
  (TARGET_BROWSERS as readonly string[]).includes(mode)

export default defineConfig(({ mode }) => {
  if (!isTarget(mode)) {
    throw new Error(
      `extension/vite.config.ts: unknown mode "${mode}"; use --mode chrome or --mode firefox ` +
        '(or `npm run build -w @coedit/extension`, which builds both)',
    )
  }
  return {
    root: here('.'),
    // No public/ copying and no .env lookups: everything the extension ships is built here.
    publicDir: false,
    envDir: false,
    logLevel: 'warn',
    define: {
      // Dependencies (lib0, simple-peer) branch on it; extension pages have no `process`.
      'process.env.NODE_ENV': JSON.stringify('production'),
    },
    plugins: [crx({ manifest: createManifest(mode, version), browser: mode })],
    build: {
      outDir: here(`./dist/${mode}`),
      emptyOutDir: true,
      target: mode === 'chrome' ? 'chrome116' : 'firefox128',
      minify: false,
      sourcemap: true,
      reportCompressedSize: false,
      modulePreload: { polyfill: false },
      rolldownOptions: {
        // Pages the manifest does not name. Chrome: the session host, opened by the service
        // worker with chrome.offscreen. Firefox: the frame that keeps the event page awake.
        input:
          mode === 'chrome'
            ? { offscreen: here('./offscreen.html') }
            : { keepalive: here('./keepalive.html') },
      },
    },
  }
})

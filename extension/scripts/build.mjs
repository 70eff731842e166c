#!/usr/bin/env node
/**
 * `npm run build -w @coedit/extension`: writes two loadable extensions, `dist/chrome/` and
 * `dist/firefox/`.
 *
 * 1. The pages and the background, once per browser, with Vite + @crxjs/vite-plugin
 *    (vite.config.ts, `--mode chrome|firefox`).
 * 2. The two scripts injected into pages with `scripting.executeScript({ files })`, built once as
 *    self-contained IIFEs (no `import`, no chrome-extension:// module loader: a page's isolated or
 *    main world cannot load modules) and copied to the root of both directories:
 *    `content.js` (src/content/index.ts) and `quill-bridge.js` (src/main-world/quill-bridge.ts).
 *
 * Entries can be pointed elsewhere with COEDIT_CONTENT_ENTRY / COEDIT_QUILL_BRIDGE_ENTRY (an
 * absolute path), e.g. a stub while the real entry is being written; a missing entry stops the
 * build with a message naming it rather than shipping an extension that fails on first use.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'

const extensionDir = dirname(dirname(fileURLToPath(import.meta.url)))
const distDir = join(extensionDir, 'dist')
const BROWSERS = ['chrome', 'firefox']

/** The injected scripts: [output file, default entry, environment override]. */
const INJECTED = [
  ['content.js', 'src/content/index.ts', 'COEDIT_CONTENT_ENTRY'],
  ['quill-bridge.js', 'src/main-world/quill-bridge.ts', 'COEDIT_QUILL_BRIDGE_ENTRY'],
]

const resolveEntries = () => {
  const entries = INJECTED.map(([fileName, entry, variable]) => ({
    fileName,
    variable,
    path: process.env[variable] || join(extensionDir, entry),
  }))
  const missing = entries.filter(({ path }) => !existsSync(path))
  if (missing.length > 0) {
    const lines = missing.map(
      ({ fileName, path, variable }) =>
        `  ${fileName}: no entry at ${path} (override: ${variable})`,
    )
    throw new Error(
      `cannot build the extension, injected script entries are missing:\n${lines.join('\n')}`,
    )
  }
  return entries
}

/** One injected script as a single IIFE file in `outDir`. */
const buildInjected = ({ fileName, path }, outDir) =>
  build({
    configFile: false,
    root: extensionDir,
    publicDir: false,
    envDir: false,
    logLevel: 'warn',
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      outDir,
      emptyOutDir: false,
      // Chrome 116 / Firefox 128: the oldest browsers the manifest admits.
      target: ['chrome116', 'firefox128'],
      minify: false,
      sourcemap: false,
      reportCompressedSize: false,
      copyPublicDir: false,
      lib: {
        entry: path,
        formats: ['iife'],
        // IIFE format wants a global name; the entries export nothing, so it stays unused.
        name: `__coedit_${fileName.replace(/\W/g, '_')}`,
        fileName: () => fileName,
      },
      rolldownOptions: { output: { codeSplitting: false } },
    },
  })

const main = async () => {
  const entries = resolveEntries()
  await rm(distDir, { recursive: true, force: true })
  for (const browser of BROWSERS) {
    await build({ configFile: join(extensionDir, 'vite.config.ts'), mode: browser })
  }
  const injectedDir = join(distDir, '.injected')
  await mkdir(injectedDir, { recursive: true })
  for (const entry of entries) await buildInjected(entry, injectedDir)
  for (const browser of BROWSERS) {
    for (const { fileName } of entries) {
      await copyFile(join(injectedDir, fileName), join(distDir, browser, fileName))
    }
  }
  await rm(injectedDir, { recursive: true, force: true })
  process.stdout.write(`extension built: ${BROWSERS.map((b) => `dist/${b}/`).join(', ')}\n`)
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})

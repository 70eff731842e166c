/**
 * Builds `dist/script/coedit.js`: the zero-code script bundle (src/script/index.ts) as one
 * minified IIFE with everything inlined — including quill-cursors, which bindings/quill.ts loads
 * with a dynamic import — and a sourcemap beside it. Quill itself is never imported (only its
 * types), so it cannot end up in the bundle; pages bring their own `window.Quill`.
 *
 * `npm run build:script -w @coedit/sdk`. The ESM build of the package is tsc's (`dist/`); this
 * build leaves tsc's files in `dist/script/` alone (`emptyOutDir: false`).
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const { version } = JSON.parse(readFileSync(here('./package.json'), 'utf8')) as { version: string }

export default defineConfig({
  // No public/ copying, no .env lookups: this is a library build of one file.
  publicDir: false,
  envDir: false,
  logLevel: 'warn',
  define: {
    __COEDIT_VERSION__: JSON.stringify(version),
    // Dependencies branch on it; a page has no `process`.
    'process.env.NODE_ENV': JSON.stringify('production'),
  },
  build: {
    outDir: here('./dist/script'),
    emptyOutDir: false,
    target: 'es2020',
    minify: true,
    sourcemap: true,
    reportCompressedSize: false,
    lib: {
      entry: here('./src/script/index.ts'),
      formats: ['iife'],
      name: 'Coedit',
      fileName: () => 'coedit.js',
    },
    rolldownOptions: {
      output: {
        // One file: the dynamic import of quill-cursors is inlined, not split into a chunk.
        codeSplitting: false,
      },
    },
  },
})

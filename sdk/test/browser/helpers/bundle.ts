/**
 * Bundles a TypeScript entry and everything it imports (node_modules included) into one browser
 * ES module, in memory, with Vite's build API. Test pages load it with
 * `<script type="module" src="/bundle.js">`.
 */
import { resolve } from 'node:path'
import { build, type Rolldown } from 'vite'

// One build per entry per test process (a build takes a few hundred ms; test files reuse it).
const cache = new Map<string, Promise<string>>()

/** Returns the bundled JavaScript source of `entry` (a path; relative paths resolve from cwd). */
export const buildBrowserBundle = (entry: string): Promise<string> => {
  const path = resolve(entry)
  let bundle = cache.get(path)
  if (bundle === undefined) {
    bundle = bundleOnce(path)
    // A failed build is not cached: the next caller gets the error afresh, not a stale promise.
    bundle.catch(() => cache.delete(path))
    cache.set(path, bundle)
  }
  return bundle
}

const bundleOnce = async (entry: string): Promise<string> => {
  const result = await build({
    configFile: false,
    envDir: false,
    publicDir: false,
    logLevel: 'warn',
    mode: 'production',
    // Stock y-webrtc needs no Node shims: it imports `simple-peer/simplepeer.min.js`, a
    // browserify bundle that carries its own `process` and `Buffer`. These defines only cover
    // packages that read `global` or `process.env.NODE_ENV` bare; `process` and `Buffer` are not
    // shimmed (add them here if a dependency turns out to need them in Chromium).
    define: {
      'process.env.NODE_ENV': '"production"',
      global: 'globalThis',
    },
    build: {
      write: false,
      minify: false,
      sourcemap: false,
      target: 'es2022',
      lib: { entry, formats: ['es'], fileName: 'bundle' },
      rolldownOptions: { output: { codeSplitting: false } },
    },
  })
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[]
  const chunks = outputs.flatMap((output) => output.output).filter((file) => file.type === 'chunk')
  const entryChunk = chunks.find((chunk) => chunk.isEntry)
  if (entryChunk === undefined || chunks.length !== 1) {
    throw new Error(
      `bundling ${entry} produced ${chunks.length} chunks, expected exactly one entry chunk`,
    )
  }
  return entryChunk.code
}

#!/usr/bin/env node
/**
 * `npm run build -w @coedit/demo`: writes `demo/dist/` — the static pages of `demo/src/` copied
 * as they are, plus Quill 2 (`quill.js`, `quill.snow.css` and its licence) vendored into
 * `dist/vendor/` from the demo workspace's own `quill` dependency. No bundler and no CDN: the
 * pages are plain HTML, CSS and browser modules, and the Coedit bundle itself is served by the
 * server at `/coedit.js`, so it is not copied here.
 *
 * `dist/` is emptied first, so a page deleted from `src/` does not linger in the build.
 */
import { copyFile, cp, mkdir, readdir, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const demoDir = dirname(dirname(fileURLToPath(import.meta.url)))
const srcDir = join(demoDir, 'src')
const distDir = join(demoDir, 'dist')
const vendorDir = join(distDir, 'vendor')

// Resolved from the demo workspace, so the version is the one demo/package.json asks for
// (npm may hoist it to the root node_modules; require.resolve finds it either way).
const require = createRequire(join(demoDir, 'package.json'))

/** Vendored files: [module path, name in dist/vendor]. */
const VENDOR = [
  ['quill/dist/quill.js', 'quill.js'],
  ['quill/dist/quill.snow.css', 'quill.snow.css'],
  ['quill/LICENSE', 'quill.LICENSE.txt'],
]

const resolveVendor = (request) => {
  try {
    return require.resolve(request)
  } catch (error) {
    throw new Error(
      `cannot find ${request}: run \`npm install\` at the repository root ` +
        `(quill is a dependency of @coedit/demo)`,
      { cause: error },
    )
  }
}

/** Every file under `dir`, as paths relative to it. */
const listFiles = async (dir) => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath ?? entry.path, entry.name)))
}

const build = async () => {
  const sources = VENDOR.map(([request, name]) => [resolveVendor(request), name])
  await rm(distDir, { recursive: true, force: true })
  await cp(srcDir, distDir, { recursive: true })
  await mkdir(vendorDir, { recursive: true })
  for (const [from, name] of sources) await copyFile(from, join(vendorDir, name))
  const files = await listFiles(distDir)
  process.stdout.write(
    `demo: wrote ${files.length} files to ${relative(process.cwd(), distDir) || '.'}\n`,
  )
}

build().catch((error) => {
  process.stderr.write(`demo build failed: ${error instanceof Error ? error.message : error}\n`)
  process.exitCode = 1
})

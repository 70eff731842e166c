#!/usr/bin/env node
/**
 * `npm run build -w @coedit/demo`: writes `demo/dist/` — the static pages of `demo/src/` copied
 * as they are, plus Quill 2 (`quill.js`, `quill.snow.css` and its licence) vendored into
 * `dist/vendor/` from the demo workspace's own `quill` dependency. No bundler and no CDN: the
 * pages are plain HTML, CSS and browser modules, and the Coedit bundle itself is served by the
 * server at `/coedit.js`, so it is not copied here.
 *
 * Pages share their header: a line `<!-- partial: site-header current="quill" -->` is replaced
 * by `src/partials/site-header.html`, indented like the line, with the link to `quill.html`
 * marked as the current page. One copy of the header, and still plain HTML in `dist/`.
 *
 * `dist/` is emptied first, so a page deleted from `src/` does not linger in the build.
 */
import { copyFile, cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const demoDir = dirname(dirname(fileURLToPath(import.meta.url)))
const srcDir = join(demoDir, 'src')
const distDir = join(demoDir, 'dist')
const vendorDir = join(distDir, 'vendor')
const partialsDir = join(srcDir, 'partials')

const PARTIAL_LINE = /^([ \t]*)<!-- partial: ([a-z-]+) current="([a-z-]+)" -->$/gm

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

/** Replaces the partial lines of one page (see the header comment). */
const expandPartials = async (file, html) => {
  const replacements = []
  for (const [line, indent, name, current] of html.matchAll(PARTIAL_LINE)) {
    const partial = await readFile(join(partialsDir, `${name}.html`), 'utf8').catch((error) => {
      throw new Error(`${file}: no partial ${name} (${error.message})`)
    })
    const link = `href="${current}.html" data-keep-room`
    if (!partial.includes(link))
      throw new Error(`${file}: partial ${name} has no link to ${current}`)
    const expanded = partial
      .replace(link, `${link} aria-current="page"`)
      .trimEnd()
      .split('\n')
      .map((text) => (text.length > 0 ? indent + text : text))
      .join('\n')
    replacements.push([line, expanded])
  }
  return replacements.reduce((page, [line, expanded]) => page.replace(line, expanded), html)
}

const build = async () => {
  const sources = VENDOR.map(([request, name]) => [resolveVendor(request), name])
  await rm(distDir, { recursive: true, force: true })
  await cp(srcDir, distDir, { recursive: true, filter: (path) => path !== partialsDir })
  for (const file of await listFiles(srcDir)) {
    if (!file.endsWith('.html') || file.startsWith('partials')) continue
    const html = await readFile(join(srcDir, file), 'utf8')
    await writeFile(join(distDir, file), await expandPartials(file, html))
  }
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

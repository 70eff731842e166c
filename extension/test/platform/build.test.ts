/**
 * Checks the built extension as shipped (`npm run build -w @coedit/extension`; the root `npm test`
 * builds first): both manifests, the files they and the pages reference, the injected scripts'
 * shape, and `web-ext lint` on the Firefox build. Reads `dist/`; it never builds.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Script } from 'node:vm'
import { describe, expect, it } from 'vitest'

const extensionDir = fileURLToPath(new URL('../..', import.meta.url))
const repoDir = dirname(extensionDir)
const dist = (browser: string, ...path: string[]) => join(extensionDir, 'dist', browser, ...path)

type Manifest = Record<string, unknown> & {
  background?: { service_worker?: string; scripts?: string[]; type?: string }
}

const readManifest = (browser: string): Manifest => {
  const path = dist(browser, 'manifest.json')
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: build the extension first (\`npm run build -w @coedit/extension\`; ` +
        'the root `npm test` does)',
    )
  }
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest
}

/** Extension-root paths an HTML page loads (`src` and `href` starting with `/`). */
const pageAssets = (html: string): string[] =>
  [...html.matchAll(/\s(?:src|href)="\/([^"]+)"/g)].flatMap((match) => match.slice(1))

/** Relative module imports in a loader such as `service-worker-loader.js`. */
const loaderImports = (code: string): string[] =>
  [...code.matchAll(/import\s+['"]\.\/([^'"]+)['"]/g)].flatMap((match) => match.slice(1))

const INJECTED = ['content.js', 'quill-bridge.js']

describe.each(['chrome', 'firefox'])('%s build', (browser) => {
  const manifest = readManifest(browser)

  it('is MV3 with exactly the permissions the contract names and optional host access only', () => {
    expect(manifest['manifest_version']).toBe(3)
    const expected = [
      'activeTab',
      'scripting',
      'storage',
      ...(browser === 'chrome' ? ['offscreen'] : []),
    ]
    expect([...(manifest['permissions'] as string[])].sort()).toEqual(expected.sort())
    expect(manifest['optional_host_permissions']).toEqual(['<all_urls>'])
    expect(manifest).not.toHaveProperty('host_permissions')
    expect(manifest).not.toHaveProperty('content_scripts')
    expect(manifest).not.toHaveProperty('optional_permissions')
  })

  it('has the background the platform runs', () => {
    if (browser === 'chrome') {
      expect(manifest.background?.type).toBe('module')
      expect(typeof manifest.background?.service_worker).toBe('string')
      expect(manifest.background).not.toHaveProperty('scripts')
      expect(manifest).not.toHaveProperty('browser_specific_settings')
    } else {
      expect(manifest.background?.scripts).toHaveLength(1)
      expect(manifest.background).not.toHaveProperty('service_worker')
      expect(manifest['browser_specific_settings']).toMatchObject({
        gecko: { id: 'coedit@coedit.dev', strict_min_version: expect.any(String) },
      })
    }
  })

  it('ships every file the manifest and the pages reference', () => {
    const background = manifest.background?.service_worker ?? manifest.background?.scripts?.[0]
    if (background === undefined) throw new Error('the manifest names no background script')
    const action = manifest['action'] as { default_popup?: string }
    const options = manifest['options_ui'] as { page?: string }
    expect(action.default_popup).toBe('popup.html')
    expect(options.page).toBe('options.html')
    const pages = [
      'popup.html',
      'options.html',
      browser === 'chrome' ? 'offscreen.html' : 'keepalive.html',
    ]
    const files = [background, ...pages, ...INJECTED]
    for (const page of pages) files.push(...pageAssets(readFileSync(dist(browser, page), 'utf8')))
    files.push(...loaderImports(readFileSync(dist(browser, background), 'utf8')))
    expect(files.length).toBeGreaterThan(pages.length + INJECTED.length + 3)
    const missing = files.filter((file) => !existsSync(dist(browser, file)))
    expect(missing).toEqual([])
  })

  it('injects self-contained classic scripts (IIFE, no module syntax, no loader)', () => {
    for (const file of INJECTED) {
      const code = readFileSync(dist(browser, file), 'utf8')
      expect(code.trimStart().startsWith('(function')).toBe(true)
      // Compiles as a classic script: a static `import` or `export` would be a SyntaxError.
      expect(() => new Script(code, { filename: file })).not.toThrow()
      // No crxjs loader or chunk: nothing fetched from the extension at run time.
      expect(code).not.toMatch(/chrome-extension:\/\/|moz-extension:\/\/|["'`]\/assets\//)
    }
  })
})

describe('firefox build', () => {
  it('passes web-ext lint with no errors', () => {
    readManifest('firefox')
    const webExt = join(repoDir, 'node_modules', '.bin', 'web-ext')
    const result = spawnSync(
      webExt,
      ['lint', '--source-dir', dist('firefox'), '--output', 'json', '--no-config-discovery'],
      { encoding: 'utf8', timeout: 120_000 },
    )
    const start = result.stdout.indexOf('{')
    if (start < 0)
      throw new Error(`web-ext lint printed no JSON:\n${result.stdout}\n${result.stderr}`)
    const report = JSON.parse(result.stdout.slice(start)) as {
      summary: { errors: number }
      errors: { code: string; message: string; file?: string }[]
    }
    expect(report.errors.map((error) => `${error.code}: ${error.message} (${error.file})`)).toEqual(
      [],
    )
    expect(report.summary.errors).toBe(0)
  }, 120_000)
})

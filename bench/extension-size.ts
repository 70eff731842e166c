/**
 * What the extension costs a page. On a page nobody shares: nothing — the manifests declare no
 * content scripts and no host permissions, so no extension code runs in the page until the user
 * acts (checked here on the built manifests, and by extension/test/platform/build.test.ts). On a
 * shared page: the scripts injected then, whose sizes this reports (raw, gzip and brotli), with the
 * `coedit.js` script tag bundle for comparison.
 *
 *   npm run build && node --import tsx bench/extension-size.ts [--write-readme]
 */
import { readFileSync } from 'node:fs'
import { writeReadmeSection } from './readme-section.js'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const root = new URL('../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root))

interface Row {
  readonly file: string
  readonly when: string
  readonly raw: number
  readonly gzip: number
  readonly brotli: number
}

const measure = (file: string, when: string): Row => {
  const bytes = read(file)
  return {
    file,
    when,
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
    }).length,
  }
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`

const main = () => {
  const manifests = ['chrome', 'firefox'].map((browser) => {
    const manifest = JSON.parse(
      read(`extension/dist/${browser}/manifest.json`).toString('utf8'),
    ) as Record<string, unknown>
    return { browser, manifest }
  })
  const idle = manifests.map(({ browser, manifest }) => {
    const contentScripts = (manifest['content_scripts'] as unknown[] | undefined)?.length ?? 0
    const hosts = (manifest['host_permissions'] as unknown[] | undefined)?.length ?? 0
    return `- ${browser}: ${contentScripts} declared content scripts, ${hosts} host permissions → nothing runs in a page that is not shared.`
  })
  const rows = [
    measure('extension/dist/chrome/content.js', 'on "Share" or "Join", isolated world'),
    measure(
      'extension/dist/chrome/quill-bridge.js',
      'only on pages with a Quill editor, main world',
    ),
    measure('sdk/dist/script/coedit.js', '(for comparison: the script tag bundle)'),
  ]
  const table = [
    '| file | injected | raw | gzip -9 | brotli -11 |',
    '|---|---|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| \`${row.file}\` | ${row.when} | ${kB(row.raw)} | ${kB(row.gzip)} | ${kB(row.brotli)} |`,
    ),
  ]
  const section = [
    '## Browser extension: what it injects (issue 6)',
    '',
    '`bench/extension-size.ts` reads the built extension (`npm run build`). Injected scripts are',
    'loaded from the extension package (no network); the sizes below are what the browser parses',
    'when a user shares or joins on a page.',
    '',
    '```sh',
    'npm run build && node --import tsx bench/extension-size.ts --write-readme',
    '```',
    '',
    ...idle,
    '',
    ...table,
  ].join('\n')
  console.log(section)
  if (process.argv.includes('--write-readme')) writeReadmeSection('extension', section)
}

main()

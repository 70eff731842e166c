/**
 * Chromium profiles with the built extension loaded, for end-to-end tests (environment.md,
 * "Extensions in headless Chromium"). Each profile is its own persistent context: its own
 * extension storage, service worker, offscreen document and IndexedDB, like a second person's
 * browser. Runs only inside the private network namespace (`npm run test:browser`).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page, type Worker } from 'playwright-core'
import {
  assertInTestNamespace,
  attachConsole,
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
} from '../../../../sdk/test/browser/helpers/chromium.js'

export const CHROME_DIST = fileURLToPath(new URL('../../../dist/chrome', import.meta.url))

/** Origins the test copy may reach without a prompt: the loopback pages the tests serve. */
const TEST_HOSTS = ['http://127.0.0.1/*']

export interface PreparedExtension {
  readonly dir: string
  remove(): void
}

/**
 * A copy of the Chrome build that already holds host access to loopback pages. Headless Chromium
 * cannot show the prompt `permissions.request` opens, so the copy grants in advance what the user
 * grants by clicking "Allow"; the popup's `permissions.request` then resolves at once, as it does
 * for a user who allowed the site before. Everything else is the build as shipped (the build test
 * checks that the shipped manifest holds no host permission).
 */
export const prepareExtension = (): PreparedExtension => {
  if (!existsSync(join(CHROME_DIST, 'manifest.json'))) {
    throw new Error(`${CHROME_DIST} is missing: run \`npm run build\` first (\`npm test\` does).`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'coedit-extension-'))
  cpSync(CHROME_DIST, dir, { recursive: true })
  const manifestPath = join(dir, 'manifest.json')
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>
  manifest['host_permissions'] = TEST_HOSTS
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface ExtensionProfile {
  readonly context: BrowserContext
  readonly extensionId: string
  /** The extension's background service worker (for reading tab ids). */
  readonly worker: Worker
  /** A new tab at `url`, with its console errors copied to the test output. */
  open(url: string, label: string): Promise<Page>
  /** The extension's tab id for `page` (what the popup's `?tab=` expects). */
  tabId(page: Page): Promise<number>
  /** The popup, opened as a page acting on `page`'s tab. */
  popup(page: Page, label: string): Promise<Page>
  close(): Promise<void>
}

/** Launches a fresh profile with the extension in `extensionDir` loaded. */
export const launchProfile = async (extensionDir: string): Promise<ExtensionProfile> => {
  assertInTestNamespace()
  const userDataDir = mkdtempSync(join(tmpdir(), 'coedit-profile-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      ...CHROMIUM_ARGS,
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
    ],
  })
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'))
  const extensionId = new URL(worker.url()).host
  const open = async (url: string, label: string) => {
    const page = await context.newPage()
    attachConsole(page, label)
    await page.goto(url)
    return page
  }
  const tabId = async (page: Page): Promise<number> => {
    // The page's URL identifies its tab; a marker in the title would too, but URLs are unique here.
    const url = page.url()
    const id = await worker.evaluate(
      async (url) => (await chrome.tabs.query({})).find((tab) => tab.url === url)?.id,
      url,
    )
    if (id === undefined) throw new Error(`no tab with URL ${url}`)
    return id
  }
  return {
    context,
    extensionId,
    worker,
    open,
    tabId,
    async popup(page, label) {
      const id = await tabId(page)
      return open(`chrome-extension://${extensionId}/popup.html?tab=${id}`, label)
    },
    async close() {
      await context.close()
      rmSync(userDataDir, { recursive: true, force: true })
    },
  }
}

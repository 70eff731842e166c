/**
 * Chromium for the in-browser benchmarks (bench/session-latency.ts, bench/binding-trace.ts),
 * through the SDK's browser-test helpers: the network-namespace guard, the browser with background
 * throttling off, and a page in a browser context of its own.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import {
  assertInTestNamespace,
  attachConsole,
  launchChromium,
} from '../sdk/test/browser/helpers/chromium.js'

/**
 * Exits (code 2) unless this runs inside the private network namespace of `scripts/in-netns.mjs`,
 * where every Chromium of the project runs; `script` is the npm script that sets it up.
 */
export const requireTestNamespace = (script: string): void => {
  try {
    assertInTestNamespace()
  } catch (error) {
    process.stderr.write(
      `${script} runs Chromium and must run inside a private network namespace: use ` +
        `\`npm run ${script}\` (node scripts/in-netns.mjs …, needs root).\n` +
        `${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exit(2)
  }
}

/** Headless Chromium that treats no page as a background tab (no timer throttling, no demotion). */
export const launchBenchChromium = (): Promise<Browser> =>
  launchChromium({
    args: [
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ],
  })

/**
 * Opens `url` in a new browser context (no storage, BroadcastChannel or renderer shared with
 * another page), its console errors reported under `label`, and waits until the page's bundle
 * has set `globalThis[harness]`. The caller closes the context; it is closed here if the page
 * fails to load.
 */
export const openPage = async (
  browser: Browser,
  url: string,
  label: string,
  harness: string,
): Promise<{ context: BrowserContext; page: Page }> => {
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    attachConsole(page, label)
    await page.goto(url)
    await page.waitForFunction((name) => name in globalThis, harness)
    return { context, page }
  } catch (error) {
    await context.close()
    throw error
  }
}

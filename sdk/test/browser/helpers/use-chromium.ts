/**
 * The Chromium lifecycle every multi-user browser test file shares: one browser for the file,
 * started before its tests and closed after them, and a fresh context per user (its own storage
 * and BroadcastChannel scope) closed after each test. Call it at the top level of a test file.
 */
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { launchChromium } from './chromium.js'

export interface ChromiumForTests {
  /** The file's browser (after `beforeAll`). */
  readonly browser: Browser
  /** A fresh context, closed after the current test. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>
}

export const useChromium = (): ChromiumForTests => {
  let browser: Browser | undefined
  const contexts: BrowserContext[] = []
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()))
  })
  afterAll(async () => {
    await browser?.close()
  })
  const started = (): Browser => {
    if (browser === undefined) throw new Error('useChromium: the browser starts in beforeAll')
    return browser
  }
  return {
    get browser() {
      return started()
    },
    async newContext(options) {
      const context = await started().newContext(options)
      contexts.push(context)
      return context
    },
  }
}

/**
 * Helpers for the script-tag tests: the built `coedit.js` and demo, a Coedit server serving both
 * (as `npm start` does), and reading a page's presence badge and fields. The tests use the real
 * build outputs — what a site loads — so `npm test` builds them first (`npm run build`).
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import type { ServerOptions } from '../../../../signaling-server/src/config.js'
import { startServer, type TestServer } from '../../../../signaling-server/test/helpers/server.js'
import type { Session } from '../../../src/index.js'

export const SCRIPT_BUNDLE = fileURLToPath(
  new URL('../../../dist/script/coedit.js', import.meta.url),
)
export const DEMO_DIR = fileURLToPath(new URL('../../../../demo/dist', import.meta.url))

/** What the tests read of `window.Coedit`. */
export interface CoeditGlobal {
  readonly instance?: { readonly session: Session }
}
export type WithCoedit = typeof globalThis & { Coedit?: CoeditGlobal }

const assertBuilt = (path: string): void => {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`npm run build\` first (\`npm test\` does).`)
  }
}

/** A Coedit server on a free port serving `/coedit.js` and, by default, the demo at `/`. */
export const startSiteServer = (options: ServerOptions = {}): Promise<TestServer> => {
  assertBuilt(SCRIPT_BUNDLE)
  assertBuilt(DEMO_DIR)
  return startServer({ scriptBundle: SCRIPT_BUNDLE, publicDir: DEMO_DIR, ...options })
}

export type BadgeState = Partial<Record<'peers' | 'path' | 'saved', string>>

/** Waits until the page's presence badge shows every attribute in `expected`. */
export const waitForBadge = (page: Page, expected: BadgeState): Promise<unknown> =>
  page.waitForFunction((expected) => {
    const badge = document.querySelector<HTMLElement>('[data-coedit-badge]')
    if (badge === null) return false
    return Object.entries(expected).every(([key, value]) => badge.dataset[key] === value)
  }, expected)

/** Names of the other users the badge lists. */
export const badgeNames = (page: Page): Promise<string[]> =>
  page.evaluate(() => {
    const names = document.querySelector<HTMLElement>('[data-coedit-badge]')?.dataset['names']
    return names === undefined ? [] : (JSON.parse(names) as string[])
  })

/** Waits for the script to have started (`Coedit.instance`) and synced its session. */
export const waitForStarted = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => (globalThis as WithCoedit).Coedit?.instance?.session.synced === true)

/** This page's own display name, as its presence publishes it. */
export const ownName = (page: Page): Promise<string> =>
  page.evaluate(() => {
    const state = (globalThis as WithCoedit).Coedit?.instance?.session.awareness.getLocalState()
    return String((state?.['user'] as { name?: unknown } | undefined)?.name)
  })

/** The text a field shows: `value` of inputs and textareas, `innerText` of anything else. */
export const fieldText = (page: Page, selector: string): Promise<string> =>
  page.$eval(selector, (element) =>
    element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement
      ? element.value
      : (element as HTMLElement).innerText,
  )

/** Waits until the field shows text containing every string in `parts`. */
export const waitForFieldText = (
  page: Page,
  selector: string,
  parts: readonly string[],
): Promise<unknown> =>
  page.waitForFunction(
    ({ selector, parts }) => {
      const element = document.querySelector(selector)
      if (element === null) return false
      const text =
        element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement
          ? element.value
          : (element as HTMLElement).innerText
      return parts.every((part) => text.includes(part))
    },
    { selector, parts },
  )

/** Clicks into a field, moves the caret to its end and types with the real keyboard. */
export const typeAtEnd = async (page: Page, selector: string, text: string): Promise<void> => {
  await page.click(selector)
  await page.keyboard.press('Control+End')
  await page.keyboard.type(text)
}

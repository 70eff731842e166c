/**
 * Which tab the popup acts on. Normally the active tab of the popup's window.
 *
 * Test hook: `popup.html?tab=<tabId>` acts on that tab instead. Headless Chromium cannot click
 * the toolbar button, so end-to-end tests open the popup page in a tab of its own and name the
 * tab under test. It grants nothing: the popup still needs host permission for that tab's origin
 * (without the toolbar click there is no `activeTab` grant), and it can only do what the user
 * could do from the toolbar.
 */
import browser, { type Tabs } from 'webextension-polyfill'

export const TAB_PARAM = 'tab'

/** The `tab` query parameter as a tab id, if present and well-formed. */
export const readTabParam = (search: string): number | undefined => {
  const value = new URLSearchParams(search).get(TAB_PARAM)
  if (value === null || !/^\d+$/.test(value)) return undefined
  return Number(value)
}

/** The tab the popup shows; undefined when there is none (e.g. a closed `?tab=`). */
export const targetTab = async (search: string): Promise<Tabs.Tab | undefined> => {
  const tabId = readTabParam(search)
  if (tabId !== undefined) {
    try {
      return await browser.tabs.get(tabId)
    } catch {
      // No such tab (closed since): the popup says so.
      return undefined
    }
  }
  const [active] = await browser.tabs.query({ active: true, currentWindow: true })
  return active
}

/** Whether the popup runs as a test page (`?tab=`) rather than as the toolbar popup. */
export const isTestPage = (search: string): boolean => readTabParam(search) !== undefined

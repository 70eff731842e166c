/**
 * The extension's manifest, one source for both browsers. The two differ only where the
 * platforms do:
 *
 * - Chrome: the background is a module service worker, which has no `RTCPeerConnection`, so the
 *   session host runs in an offscreen document (`offscreen` permission, reason `WEB_RTC`).
 * - Firefox: MV3 has no service workers there; `background.scripts` runs in an event page with a
 *   DOM and WebRTC, so the background hosts the sessions itself. Firefox also needs an add-on id
 *   (`browser_specific_settings.gecko`) for `storage` and a stable `moz-extension://` identity.
 *
 * Paths are relative to the Vite root (`extension/`); @crxjs/vite-plugin bundles the TypeScript
 * entries and rewrites them to their output names. The two injected scripts (`content.js`,
 * `quill-bridge.js`) are not listed: nothing runs in a page until the user acts, and then the
 * background injects them with `scripting.executeScript`.
 */

export type TargetBrowser = 'chrome' | 'firefox'

export const TARGET_BROWSERS: readonly TargetBrowser[] = ['chrome', 'firefox']

/** Firefox add-on id: fixed, so storage and permissions survive reinstalls. */
export const GECKO_ID = 'coedit@coedit.dev'

/**
 * Oldest Firefox with everything used here: `scripting.executeScript({ world: 'MAIN' })` (128),
 * `storage.session` (115), and the `data_collection_permissions` key AMO now requires (140, the
 * current ESR; web-ext lint warns below it). Firefox for Android is not a target: its lint warning
 * about that key (Android 142) is expected.
 */
export const GECKO_MIN_VERSION = '140.0'

/** Chrome 116: `runtime.getContexts` (finding the offscreen document) and offscreen `WEB_RTC`. */
export const CHROME_MIN_VERSION = '116'

/** Permissions both browsers get; host access is optional and asked for one origin at a time. */
const COMMON_PERMISSIONS = ['activeTab', 'scripting', 'storage']

/** The manifest for `browser`, as @crxjs/vite-plugin takes it (source paths). */
export const createManifest = (browser: TargetBrowser, version: string) => ({
  manifest_version: 3,
  name: 'Coedit',
  version,
  description: 'Edit the fields of any web page together with others, through an invite link.',
  action: { default_title: 'Coedit', default_popup: 'popup.html' },
  options_ui: { page: 'options.html', open_in_tab: false },
  permissions: browser === 'chrome' ? [...COMMON_PERMISSIONS, 'offscreen'] : COMMON_PERMISSIONS,
  optional_host_permissions: ['<all_urls>'],
  ...(browser === 'chrome'
    ? {
        minimum_chrome_version: CHROME_MIN_VERSION,
        background: { service_worker: 'src/background/chrome.ts', type: 'module' },
      }
    : {
        background: { scripts: ['src/background/firefox.ts'] },
        browser_specific_settings: {
          gecko: {
            id: GECKO_ID,
            strict_min_version: GECKO_MIN_VERSION,
            // The extension collects nothing: documents go to the user's own Coedit server.
            data_collection_permissions: { required: ['none' as const] },
          },
        },
      }),
})

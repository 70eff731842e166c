/**
 * Headless Debian Chromium for browser tests, driven by playwright-core (Playwright's own browser
 * downloads do not work here). Refuses to start outside the private network namespace that
 * `scripts/in-netns.mjs` creates: browsers must never run on the real network.
 */
import { networkInterfaces } from 'node:os'
import { chromium, type Browser, type LaunchOptions, type Page } from 'playwright-core'

/** Debian's package; CI installs it with `apt-get install -y chromium`. */
export const CHROMIUM_PATH = '/usr/bin/chromium'

/** The address `scripts/in-netns.mjs` gives `v0`; WebRTC ICE candidates use it. */
const NAMESPACE_ADDRESS = '10.99.0.1'

/**
 * Flags from environment.md. Each one stops a kind of background traffic (updates, sync, field
 * trials, QUIC probes); `--host-resolver-rules` makes every name but loopback unresolvable.
 * mDNS candidates are disabled so WebRTC offers the plain veth address instead of a `.local`
 * name (which Chromium would resolve by multicast).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
]

/**
 * Throws unless this process runs in the namespace `scripts/in-netns.mjs` built: `v0` holds
 * 10.99.0.1 and no interface but `lo`, `v0` and `v1` exists (so no route leads off the machine).
 */
export const assertInTestNamespace = (): void => {
  const interfaces = networkInterfaces()
  const names = Object.keys(interfaces)
  const hasV0 = (interfaces['v0'] ?? []).some((info) => info.address === NAMESPACE_ADDRESS)
  const foreign = names.filter((name) => !['lo', 'v0', 'v1'].includes(name))
  if (!hasV0 || foreign.length > 0) {
    throw new Error(
      'Browser tests must run inside a private network namespace (found interfaces: ' +
        `${names.join(', ')}). Run them with \`npm run test:browser\` or ` +
        '`node scripts/in-netns.mjs npx vitest run --project browser` (needs root).',
    )
  }
}

/**
 * Launches headless Chromium with the isolation flags. `options.args` are appended to
 * {@link CHROMIUM_ARGS}. The caller closes the browser (`await browser.close()`).
 */
export const launchChromium = async (options: LaunchOptions = {}): Promise<Browser> => {
  assertInTestNamespace()
  return chromium.launch({
    ...options,
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  })
}

/**
 * Copies the page's console errors and uncaught exceptions into the test output, prefixed with
 * `label` (e.g. the simulated user), so a failing browser test shows why.
 */
export const attachConsole = (page: Page, label = 'page'): void => {
  page.on('console', (message) => {
    if (message.type() === 'error') console.error(`[${label}] console.error: ${message.text()}`)
  })
  page.on('pageerror', (error) => {
    console.error(`[${label}] uncaught: ${error.stack ?? error.message}`)
  })
}

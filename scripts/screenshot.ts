/**
 * Takes the README's screenshot: two browser windows on the demo's document page, in one room,
 * each user typing with the real keyboard, composed side by side into `docs/two-windows.png`.
 * Run with `npm run screenshot` (inside the private network namespace, like the browser tests;
 * needs `npm run build` first).
 */
import { writeFileSync, mkdirSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { launchChromium } from '../sdk/test/browser/helpers/chromium.js'
import {
  startSiteServer,
  waitForBadge,
  waitForFieldText,
  waitForStarted,
} from '../sdk/test/browser/helpers/coedit-site.js'

const OUTPUT = new URL('../docs/two-windows.png', import.meta.url)
const WIDTH = 640
const HEIGHT = 720

const main = async () => {
  const server = await startSiteServer()
  const browser = await launchChromium()
  try {
    const room = 'launch-plan'
    const open = async (name: string, color: string): Promise<Page> => {
      const context = await browser.newContext({
        viewport: { width: WIDTH, height: HEIGHT },
        deviceScaleFactor: 1,
      })
      const page = await context.newPage()
      // The demo remembers a chosen name per browser; give each window its own before loading.
      await page.addInitScript(
        ({ name, color }) =>
          localStorage.setItem('coedit-demo-user', JSON.stringify({ name, color })),
        { name, color },
      )
      await page.goto(`${server.url}/document.html?room=${room}`)
      await waitForStarted(page)
      return page
    }
    const ada = await open('Ada', '#e76f51')
    const grace = await open('Grace', '#2a9d8f')
    await waitForBadge(ada, { peers: '1' })
    const editor = '[contenteditable]'
    await ada.click(editor)
    await ada.keyboard.press('Control+End')
    await ada.keyboard.press('Enter')
    await ada.keyboard.type('Ada: the relay keeps a copy, so nobody loses work.')
    await waitForFieldText(grace, editor, ['nobody loses work'])
    await grace.click(editor)
    await grace.keyboard.press('Control+End')
    await grace.keyboard.press('Enter')
    await grace.keyboard.type('Grace: and it works offline')
    await waitForFieldText(ada, editor, ['works offline'])
    await waitForBadge(ada, { saved: 'true' })
    await waitForBadge(grace, { saved: 'true' })
    // Presence is throttled (100 ms) and nothing observable marks its last trailing update, so
    // give the cursors a moment to reach where each user stopped typing (a picture, not a test).
    await new Promise((resolve) => setTimeout(resolve, 500))
    // Let the remote cursors' overlay paint (it follows awareness, one frame later).
    await Promise.all(
      [ada, grace].map((page) => page.evaluate(() => new Promise(requestAnimationFrame))),
    )

    const shots = await Promise.all([ada, grace].map((page) => page.screenshot({ type: 'png' })))
    const frame = await browser.newPage({
      viewport: { width: WIDTH * 2 + 48, height: HEIGHT + 64 },
    })
    await frame.setContent(`<!doctype html><style>
      body { margin: 0; padding: 16px; display: flex; gap: 16px; background: #dfe3e8; }
      figure { margin: 0; border-radius: 8px; overflow: hidden; box-shadow: 0 4px 16px #0003; }
      figcaption { font: 13px system-ui, sans-serif; padding: 6px 10px; background: #f6f7f9; color: #444; }
      img { display: block; }
    </style>${shots
      .map(
        (shot, index) =>
          `<figure><figcaption>${index === 0 ? 'Ada' : 'Grace'} — window ${index + 1}</figcaption>` +
          `<img src="data:image/png;base64,${shot.toString('base64')}"></figure>`,
      )
      .join('')}`)
    mkdirSync(new URL('.', OUTPUT), { recursive: true })
    writeFileSync(OUTPUT, await frame.screenshot({ type: 'png', fullPage: true }))
    console.log(`wrote ${OUTPUT.pathname}`)
  } finally {
    await browser.close()
    await server.close()
  }
}

await main()

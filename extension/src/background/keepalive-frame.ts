/**
 * Firefox only: runs in the hidden frame firefox-keepalive.ts adds to the background page. Each
 * message is an extension event in the background, which restarts its idle timer. Nobody
 * answers it, so the send is expected to reject; only its arrival matters.
 */
import browser from 'webextension-polyfill'

export const KEEPALIVE_MESSAGE = 'coedit:keepalive'
const INTERVAL_MS = 20_000

setInterval(() => {
  browser.runtime.sendMessage({ type: KEEPALIVE_MESSAGE }).catch(() => undefined)
}, INTERVAL_MS)

/**
 * Firefox's background (an MV3 event page, which has a DOM and WebRTC): it keeps the shares and
 * is the session host itself (firefox-host-link.ts).
 */
import { createFirefoxHostLink } from './firefox-host-link.js'
import { createKeepalive } from './firefox-keepalive.js'
import { startBackground } from './main.js'

const keepalive = createKeepalive()

startBackground({
  createLink: (events) => createFirefoxHostLink(events),
  onShareCount: (count) => keepalive.set(count > 0),
})

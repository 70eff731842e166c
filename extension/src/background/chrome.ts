/**
 * Chrome's background service worker. The session host lives in the offscreen document (a
 * service worker has no RTCPeerConnection); this worker keeps the shares and relays the content
 * scripts' ports to it (offscreen-host-link.ts).
 */
import { portFromRuntime } from '../host/host-port.js'
import { HOST_PORT, type BackgroundToHost } from '../host/host-link-messages.js'
import { startBackground } from './main.js'
import { createOffscreenHostLink, type OffscreenHostLink } from './offscreen-host-link.js'

const OFFSCREEN_PAGE = chrome.runtime.getURL('offscreen.html')

let offscreen: OffscreenHostLink | undefined

const store = startBackground({
  createLink(events) {
    offscreen = createOffscreenHostLink({ ...events, hasShares: () => store.all().length > 0 })
    return offscreen
  },
  acceptPort(port, shares) {
    // Only our offscreen document may claim to be the host.
    if (port.name !== HOST_PORT || port.sender?.url !== OFFSCREEN_PAGE || offscreen === undefined) {
      return false
    }
    const link = offscreen
    const hostPort = portFromRuntime<BackgroundToHost>(port)
    void shares().then((list) => link.acceptHostPort(hostPort, list))
    return true
  },
})

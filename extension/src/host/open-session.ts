/**
 * How the extension opens a room's session: the SDK with the room key as y-webrtc's signaling
 * password (end-to-end encrypted signaling), no cross-tab relay sharing (`tabs: false`: there is
 * exactly one host per browser, so nothing to share with), and no IndexedDB copy (`offline:
 * false`: the key lives only in `storage.session`, so a persistent copy would outlive it as
 * plaintext on disk; the host stays up across page reloads and the server keeps the document).
 */
import { createSession, type Session } from '@coedit/sdk'
import type { HostShare } from './session-host.js'
import { tokenFromUrl } from './token-url.js'

export const openSession = (share: HostShare): Session =>
  createSession({
    server: share.server,
    room: share.room,
    webrtc: { password: share.key },
    tabs: false,
    offline: false,
    ...(share.user === undefined ? {} : { user: share.user }),
    ...(share.tokenUrl === undefined ? {} : { getToken: tokenFromUrl(share.tokenUrl, share.room) }),
  })

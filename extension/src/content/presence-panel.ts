/**
 * The extension's small panel at the bottom right of a shared page, like the script tag's
 * presence badge: who else is here (name, colour, and whether they are reached peer-to-peer or
 * through the relay), whether edits are saved, which shared fields could not be found on this
 * copy of the page, and — once the content script stops — why, and what to do.
 *
 * One host element `<coedit-panel data-coedit-extension-panel>` appended to `<body>`, with an open
 * shadow root so the page's CSS cannot reach in (overlay-host.ts). Everything remote is set as text (`textContent`) or, for
 * colours, only after validation through `style.setProperty`. The host mirrors the state in
 * `data-*` attributes for tests: `data-peers` (others here), `data-saved`, `data-names` (JSON),
 * `data-errors` (fields not found), `data-state` (`connecting` | `live` | `stopped`).
 */
import type { PeerView } from '../shared/messages.js'
import { createOverlayHost } from './overlay-host.js'
import type { HostStatus } from './replica.js'

export const PANEL_ATTRIBUTE = 'data-coedit-extension-panel'

export interface PresencePanel {
  readonly element: HTMLElement
  setStatus(status: HostStatus): void
  /** Messages about shared fields that could not be bound here. */
  setProblems(problems: readonly string[]): void
  /** Shows why the script stopped (replaces presence); the panel can then be dismissed. */
  showNotice(text: string): void
  /** Removes the host element. Idempotent. */
  destroy(): void
}

const COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i
const FALLBACK_COLOR = '#757575'

const STYLE = `
  :host { all: initial; }
  .panel {
    padding: 8px 10px; border-radius: 8px; background: #fff; color: #222;
    font: 12px/1.4 system-ui, sans-serif; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.25);
  }
  .line { display: flex; align-items: center; gap: 6px; }
  .title { font-weight: 600; }
  .status { color: #555; }
  ul { list-style: none; margin: 4px 0 0; padding: 0; }
  li { display: flex; align-items: center; gap: 6px; margin-top: 2px; }
  .dot { width: 10px; height: 10px; border-radius: 50%; flex: none; }
  .via { color: #777; }
  .problems li, .notice { color: #b3261e; }
  .notice { margin-top: 4px; }
  .close {
    margin-left: auto; border: 0; background: none; font: inherit; color: #555; cursor: pointer;
  }
  [hidden] { display: none; }
`

const PATH_TEXT = { webrtc: 'Peer-to-peer', relay: 'Relay', offline: 'Offline' } as const

/** `webrtc` when someone is reached directly, `relay` when the relay is up, else `offline`. */
const pathOf = (status: HostStatus): keyof typeof PATH_TEXT =>
  status.peers.some((peer) => peer.transport === 'webrtc')
    ? 'webrtc'
    : status.relay === 'connected'
      ? 'relay'
      : status.relay === 'disabled' && status.webrtc === 'connected'
        ? 'webrtc'
        : 'offline'

const savedText = (status: HostStatus): string =>
  status.saved
    ? 'Saved'
    : status.relay === 'connected' || status.relay === 'connecting'
      ? 'Saving…'
      : 'Not saved'

export const createPresencePanel = (page: Document): PresencePanel => {
  const make = <K extends keyof HTMLElementTagNameMap>(tag: K, className = '') => {
    const element = page.createElement(tag)
    if (className !== '') element.className = className
    return element
  }
  const { host, root } = createOverlayHost(page, 'coedit-panel', {
    right: '16px',
    bottom: '16px',
    'max-width': '320px',
    'z-index': '2147483000',
  })
  host.setAttribute(PANEL_ATTRIBUTE, '')
  const style = make('style')
  style.textContent = STYLE
  const panel = make('div', 'panel')
  panel.setAttribute('role', 'status')
  const header = make('div', 'line')
  const title = make('span', 'title')
  title.textContent = 'Coedit'
  const status = make('span', 'status')
  status.textContent = 'Connecting…'
  const close = make('button', 'close')
  close.type = 'button'
  close.textContent = '×'
  close.setAttribute('aria-label', 'Close')
  close.hidden = true
  header.append(title, status, close)
  const people = make('ul', 'people')
  const problems = make('ul', 'problems')
  const notice = make('div', 'notice')
  notice.hidden = true
  panel.append(header, people, problems, notice)
  root.append(style, panel)

  const set = (name: string, value: string) => {
    if (host.getAttribute(name) !== value) host.setAttribute(name, value)
  }
  set('data-state', 'connecting')
  set('data-peers', '0')
  set('data-saved', 'false')
  set('data-names', '[]')
  set('data-errors', '0')

  const person = (peer: PeerView) => {
    const item = make('li')
    const dot = make('span', 'dot')
    dot.style.setProperty('background', COLOR.test(peer.color) ? peer.color : FALLBACK_COLOR)
    const name = make('span')
    name.textContent = peer.name
    const via = make('span', 'via')
    via.textContent = peer.transport === 'webrtc' ? 'peer-to-peer' : 'via relay'
    item.append(dot, name, via)
    return item
  }

  let stopped = false
  const onClose = () => host.remove()
  close.addEventListener('click', onClose)
  ;(page.body ?? page.documentElement).append(host)

  return {
    element: host,
    setStatus(next) {
      if (stopped) return
      const others = next.peers.length
      status.textContent =
        `${others === 0 ? 'only you' : others === 1 ? 'you and 1 other' : `you and ${others} others`}` +
        ` · ${PATH_TEXT[pathOf(next)]} · ${savedText(next)}`
      people.replaceChildren(...next.peers.map(person))
      set('data-state', 'live')
      set('data-peers', String(others))
      set('data-saved', String(next.saved))
      set('data-names', JSON.stringify(next.peers.map((peer) => peer.name)))
    },
    setProblems(list) {
      if (stopped) return
      problems.replaceChildren(
        ...list.map((text) => {
          const item = make('li')
          item.textContent = text
          return item
        }),
      )
      set('data-errors', String(list.length))
    },
    showNotice(text) {
      stopped = true
      notice.textContent = text
      notice.hidden = false
      close.hidden = false
      status.textContent = ''
      people.replaceChildren()
      problems.replaceChildren()
      set('data-state', 'stopped')
      set('data-peers', '0')
      set('data-names', '[]')
      set('data-errors', '0')
      // Back on the page if it was dismissed: a stop must be seen.
      if (!host.isConnected) (page.body ?? page.documentElement).append(host)
    },
    destroy() {
      close.removeEventListener('click', onClose)
      host.remove()
    },
  }
}

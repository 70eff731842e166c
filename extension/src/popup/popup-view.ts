/**
 * Renders a tab's view into the popup's static markup (popup.html): which section shows, the
 * invite link, who is here and by which path, and whether the server saved everything. Plain DOM
 * with textContent only; peer names come from other people.
 */
import { INVITE_PARAM, inviteLink, parseInviteLink, type PeerView } from '../shared/messages.js'
import type { StatusView, TabView } from '../shared/requests.js'

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`popup.html has no #${id}`)
  return found as T
}

export const elements = () => ({
  statusMessage: element<HTMLParagraphElement>('status-message'),
  notShared: element<HTMLElement>('not-shared'),
  share: element<HTMLButtonElement>('share'),
  joinThisRow: element<HTMLElement>('join-this-row'),
  joinThis: element<HTMLButtonElement>('join-this'),
  joinForm: element<HTMLFormElement>('join-form'),
  joinInput: element<HTMLInputElement>('join-input'),
  join: element<HTMLButtonElement>('join'),
  shared: element<HTMLElement>('shared'),
  inviteLink: element<HTMLInputElement>('invite-link'),
  copyInvite: element<HTMLButtonElement>('copy-invite'),
  pick: element<HTMLButtonElement>('pick'),
  connection: element<HTMLParagraphElement>('connection'),
  peers: element<HTMLUListElement>('peers'),
  saved: element<HTMLParagraphElement>('saved'),
  stop: element<HTMLButtonElement>('stop'),
  name: element<HTMLInputElement>('name'),
  color: element<HTMLInputElement>('color'),
  openOptions: element<HTMLAnchorElement>('open-options'),
})

export type PopupElements = ReturnType<typeof elements>

const TRANSPORT_LABEL = { webrtc: 'WebRTC', relay: 'relay' } as const

const peerItem = (peer: PeerView): HTMLLIElement => {
  const item = document.createElement('li')
  item.dataset['name'] = peer.name
  item.dataset['transport'] = peer.transport
  const swatch = document.createElement('span')
  swatch.className = 'swatch'
  swatch.style.backgroundColor = peer.color
  const name = document.createElement('span')
  name.textContent = peer.name
  const transport = document.createElement('span')
  transport.className = 'transport'
  transport.textContent = `via ${TRANSPORT_LABEL[peer.transport]}`
  item.append(swatch, name, transport)
  return item
}

const connectionText = (status: StatusView | null): string => {
  if (status === null) return 'Connecting…'
  const alone = status.peers.length === 0 ? ' Nobody else is here yet.' : ''
  return `Server: ${status.relay}. Direct (WebRTC): ${status.webrtc}.${alone}`
}

/** The page to invite to: the tab's current page when it is still on the share's origin. */
const invitePage = (tabUrl: string | undefined, view: Extract<TabView, { shared: true }>) => {
  if (tabUrl === undefined) return view.page
  try {
    return new URL(tabUrl).origin === new URL(view.page).origin ? tabUrl : view.page
  } catch {
    return view.page
  }
}

/** A `#coedit-invite=` link in the tab's own address, if it holds a valid invite. */
export const tabInvite = (tabUrl: string | undefined) =>
  tabUrl !== undefined && tabUrl.includes(`#${INVITE_PARAM}=`) ? parseInviteLink(tabUrl) : undefined

export const render = (ui: PopupElements, view: TabView, tabUrl: string | undefined): void => {
  ui.notShared.hidden = view.shared
  ui.shared.hidden = !view.shared
  if (!view.shared) {
    ui.joinThisRow.hidden = tabInvite(tabUrl)?.page === undefined
    return
  }
  ui.inviteLink.value = inviteLink(invitePage(tabUrl, view), view.invite)
  ui.connection.textContent = connectionText(view.status)
  ui.peers.replaceChildren(...(view.status?.peers ?? []).map(peerItem))
  const saved = view.status?.saved ?? false
  ui.saved.dataset['saved'] = String(saved)
  ui.saved.textContent = saved
    ? 'All edits are saved on the server.'
    : 'Not saved on the server yet.'
}

/** Shows a one-line message; errors are styled as such. */
export const showMessage = (ui: PopupElements, text: string, kind: 'info' | 'error' = 'info') => {
  ui.statusMessage.textContent = text
  ui.statusMessage.dataset['kind'] = kind
}

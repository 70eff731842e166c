/**
 * The popup: share the fields of the current page, join an invite, or — when the tab shares —
 * show the invite link, who is here and whether the server saved everything, pick another field
 * or stop. Name and colour are kept in `storage.local`.
 *
 * Host permission is asked for here because only a click may ask (`permissions.request` needs a
 * user gesture). The click handler asks and sends its request to the background in the same
 * turn, without waiting: on Firefox the permission prompt can close the popup, so the background
 * waits for the permission itself and carries on alone (share-controller.ts).
 */
import browser, { type Tabs } from 'webextension-polyfill'
import { parseInviteLink } from '../shared/messages.js'
import {
  POPUP_PORT,
  readPopupResponse,
  readPopupView,
  readUserSettings,
  type PopupRequest,
  type PopupResponse,
  type PopupWatch,
  type TabView,
} from '../shared/requests.js'
import { loadUser, saveUser } from '../options/settings.js'
import { isTestPage, targetTab } from './popup-tab.js'
import { elements, render, showMessage, tabInvite, type PopupElements } from './popup-view.js'

const request = async (message: PopupRequest): Promise<PopupResponse> => {
  try {
    const response = readPopupResponse(await browser.runtime.sendMessage(message))
    return response ?? { ok: false, error: 'Coedit did not answer; try again.' }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) }
  }
}

const originOf = (url: string | undefined): string | undefined => {
  if (url === undefined) return undefined
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined
  } catch {
    return undefined
  }
}

const start = async (ui: PopupElements) => {
  let tab: Tabs.Tab | undefined = await targetTab(location.search)
  const tabId = tab?.id
  if (tab === undefined || tabId === undefined) {
    showMessage(ui, 'No tab to work on.', 'error')
    return
  }
  let view: TabView = { shared: false }
  const show = (next: TabView) => {
    view = next
    render(ui, view, tab?.url)
  }
  const answer = (response: PopupResponse) => {
    if (response.ok) show(response.view)
    else showMessage(ui, response.error, 'error')
  }

  /**
   * Asks for `origin` (inside the click's gesture) and sends `message` at once. If the user
   * refuses, the background stops waiting.
   */
  const withPermission = (origin: string, message: PopupRequest) => {
    showMessage(ui, `Allow Coedit on ${origin} if the browser asks.`)
    browser.permissions.request({ origins: [`${origin}/*`] }).then(
      (granted) => {
        if (granted) return
        showMessage(ui, `Coedit needs access to ${origin} to work on this page.`, 'error')
        void request({ type: 'stop', tabId })
      },
      (error: unknown) => {
        showMessage(ui, `Cannot ask for access: ${String(error)}`, 'error')
        void request({ type: 'stop', tabId })
      },
    )
    void request(message).then((response) => {
      if (response.ok) showMessage(ui, '')
      answer(response)
    })
  }

  const join = (text: string) => {
    const parsed = parseInviteLink(text)
    if (parsed === undefined) {
      showMessage(ui, 'That is not a Coedit invite link or code.', 'error')
      return
    }
    const origin = originOf(parsed.page ?? tab?.url)
    if (origin === undefined) {
      showMessage(ui, 'Paste the whole invite link, or open the shared page first.', 'error')
      return
    }
    const { invite, page } = parsed
    withPermission(origin, { type: 'join', tabId, invite, ...(page === undefined ? {} : { page }) })
  }

  ui.share.addEventListener('click', () => {
    const origin = originOf(tab?.url)
    if (origin === undefined) {
      showMessage(ui, 'Coedit can share fields on http:// and https:// pages only.', 'error')
      return
    }
    withPermission(origin, { type: 'share', tabId })
  })
  ui.joinForm.addEventListener('submit', (event) => {
    event.preventDefault()
    join(ui.joinInput.value)
  })
  ui.joinThis.addEventListener('click', () => {
    // The link in the tab's own address: the background reloads the page without the fragment.
    if (tab?.url !== undefined && tabInvite(tab.url) !== undefined) join(tab.url)
  })
  ui.copyInvite.addEventListener('click', () => {
    navigator.clipboard.writeText(ui.inviteLink.value).then(
      () => showMessage(ui, 'Invite link copied.'),
      () => {
        ui.inviteLink.select()
        showMessage(ui, 'Copy the selected link with Ctrl+C.', 'error')
      },
    )
  })
  ui.pick.addEventListener('click', () => {
    void request({ type: 'pick', tabId }).then((response) => {
      answer(response)
      // The picker is in the page; the toolbar popup would only cover it.
      if (response.ok && !isTestPage(location.search)) window.close()
    })
  })
  ui.stop.addEventListener('click', () => {
    void request({ type: 'stop', tabId }).then((response) => {
      answer(response)
      if (response.ok) showMessage(ui, 'Sharing stopped.')
    })
  })
  ui.openOptions.addEventListener('click', (event) => {
    event.preventDefault()
    void browser.runtime.openOptionsPage()
  })

  const user = await loadUser(browser.storage.local)
  ui.name.value = user.name
  ui.color.value = user.color
  const saveIdentity = () => {
    const next = readUserSettings({ name: ui.name.value, color: ui.color.value })
    if (next === undefined) {
      showMessage(ui, 'Your name must be 1 to 64 characters.', 'error')
      return
    }
    void saveUser(browser.storage.local, next).then(() => request({ type: 'user', user: next }))
  }
  ui.name.addEventListener('change', saveIdentity)
  ui.color.addEventListener('change', saveIdentity)

  // The background pushes this tab's view on every change (peers, saved, stopped).
  const port = browser.runtime.connect({ name: POPUP_PORT })
  port.onMessage.addListener((data: unknown) => {
    const message = readPopupView(data)
    if (message === undefined || message.tabId !== tabId) return
    // The tab may have navigated (a join reloads it): its address decides the invite link.
    void browser.tabs.get(tabId).then(
      (current) => {
        tab = current
        show(message.view)
      },
      () => show(message.view),
    )
  })
  const watch: PopupWatch = { type: 'watch', tabId }
  port.postMessage(watch)
  answer(await request({ type: 'state', tabId }))
  // For tests and scripts: the popup shows its tab's state and the identity fields are filled.
  document.documentElement.dataset['ready'] = 'true'
}

const ui = elements()
start(ui).catch((error: unknown) => {
  showMessage(ui, `Coedit failed to start: ${String(error)}`, 'error')
})

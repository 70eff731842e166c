/**
 * The options page: the Coedit server for new shares and an optional token URL, validated and
 * stored in `storage.local` (settings.ts). Saving a token URL also asks for host access to its
 * origin (the click is the user gesture that may ask): the session host fetches it with the
 * user's cookies from an extension page, which the token site's CORS rules would otherwise block.
 */
import browser from 'webextension-polyfill'
import { loadSettings, readServerUrl, readTokenUrl, saveSettings } from './settings.js'

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`options.html has no #${id}`)
  return found as T
}

const form = element<HTMLFormElement>('settings-form')
const server = element<HTMLInputElement>('server')
const tokenUrl = element<HTMLInputElement>('token-url')
const message = element<HTMLParagraphElement>('status-message')

const show = (text: string, kind: 'info' | 'error' = 'info') => {
  message.textContent = text
  message.dataset['kind'] = kind
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  const serverUrl = readServerUrl(server.value)
  if (serverUrl === undefined) {
    show('The server must be an http(s):// or ws(s):// URL without user name or query.', 'error')
    return
  }
  const tokenText = tokenUrl.value.trim()
  const token = tokenText === '' ? undefined : readTokenUrl(tokenText)
  if (tokenText !== '' && token === undefined) {
    show('The token URL must be an http(s):// URL without user name or fragment.', 'error')
    return
  }
  // Asked inside the submit's gesture, before any await.
  const access =
    token === undefined
      ? Promise.resolve(true)
      : browser.permissions.request({ origins: [`${new URL(token).origin}/*`] })
  void saveSettings(browser.storage.local, { server: serverUrl, tokenUrl: token })
    .then(() => access)
    .then(
      (granted) => {
        server.value = serverUrl
        show(
          granted
            ? 'Saved. New shares use these settings.'
            : 'Saved, but without access to the token URL the browser may block it.',
          granted ? 'info' : 'error',
        )
      },
      (error: unknown) => show(`Cannot save: ${String(error)}`, 'error'),
    )
})

void loadSettings(browser.storage.local).then((settings) => {
  server.value = settings.server
  tokenUrl.value = settings.tokenUrl ?? ''
})

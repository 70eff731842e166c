/**
 * The user's settings in `storage.local`: the Coedit server (`server`), an optional token URL
 * (`tokenUrl`), and the name and colour shown to others (`user`). Read by the options page, the
 * popup and the background; every value is validated on the way in and on the way out (storage
 * can hold anything an older version or a hand edit left there).
 */
import type { Storage } from 'webextension-polyfill'
import { readUserSettings, type UserSettings } from '../shared/requests.js'

export const DEFAULT_SERVER = 'http://localhost:8787'

export interface Settings {
  /** The Coedit server's base URL for new shares (joins use the invite's server). */
  readonly server: string
  /** Where the session host fetches tokens (with the user's cookies), when the server has auth. */
  readonly tokenUrl: string | undefined
}

/** The subset of `storage.StorageArea` used here (tests pass an in-memory one). */
export type SettingsArea = Pick<Storage.StorageArea, 'get' | 'set'>

const parseUrl = (text: string, protocols: readonly string[]): URL | undefined => {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    return undefined
  }
  if (!protocols.includes(url.protocol)) return undefined
  // Credentials in a URL end up in logs and invites; a fragment means nothing to a server.
  if (url.username !== '' || url.password !== '' || url.hash !== '') return undefined
  return url
}

/** A server base URL (`http(s)://` or `ws(s)://`, no credentials), normalised; else undefined. */
export const readServerUrl = (text: unknown): string | undefined => {
  if (typeof text !== 'string') return undefined
  const url = parseUrl(text, ['http:', 'https:', 'ws:', 'wss:'])
  if (url === undefined || url.search !== '') return undefined
  // `http://host:8787/` and `http://host:8787` are the same server; invites carry one spelling.
  return url.href.replace(/\/$/, '')
}

/** A token URL (`http(s)://`, no credentials), normalised; else undefined. */
export const readTokenUrl = (text: unknown): string | undefined => {
  if (typeof text !== 'string') return undefined
  return parseUrl(text, ['http:', 'https:'])?.href
}

export const loadSettings = async (area: SettingsArea): Promise<Settings> => {
  const stored = await area.get(['server', 'tokenUrl'])
  return {
    server: readServerUrl(stored['server']) ?? DEFAULT_SERVER,
    tokenUrl: readTokenUrl(stored['tokenUrl']),
  }
}

export const saveSettings = async (area: SettingsArea, settings: Settings): Promise<void> => {
  await area.set({ server: settings.server, tokenUrl: settings.tokenUrl ?? '' })
}

/** Colours that read well as a caret and a name label on white and dark pages. */
const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#008080', '#9a6324']

/** A first-run identity: a neutral name and a random colour from the palette. */
export const defaultUser = (random: () => number = Math.random): UserSettings => ({
  name: 'Guest',
  color: PALETTE[Math.floor(random() * PALETTE.length)] ?? '#4363d8',
})

/** The stored user, or a default one that is stored at once so it stays the same. */
export const loadUser = async (area: SettingsArea): Promise<UserSettings> => {
  const stored = readUserSettings((await area.get('user'))['user'])
  if (stored !== undefined) return stored
  const user = defaultUser()
  await area.set({ user })
  return user
}

export const saveUser = async (area: SettingsArea, user: UserSettings): Promise<void> => {
  await area.set({ user })
}

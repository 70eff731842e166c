/** Options validation and storage defaults. */
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_SERVER,
  loadSettings,
  loadUser,
  readServerUrl,
  readTokenUrl,
  type SettingsArea,
} from '../../src/options/settings.js'

const memoryArea = (initial: Record<string, unknown> = {}): SettingsArea => {
  const data: Record<string, unknown> = { ...initial }
  return {
    get: async (keys) => {
      const list = typeof keys === 'string' ? [keys] : Array.isArray(keys) ? keys : []
      return Object.fromEntries(list.filter((key) => key in data).map((key) => [key, data[key]]))
    },
    set: async (items) => {
      Object.assign(data, items)
    },
  }
}

describe('settings', () => {
  it('accepts server URLs the SDK can use, normalised', () => {
    expect(readServerUrl(' https://coedit.example/ ')).toBe('https://coedit.example')
    expect(readServerUrl('ws://127.0.0.1:8787/prefix/')).toBe('ws://127.0.0.1:8787/prefix')
    for (const bad of [
      '',
      'localhost:8787',
      'ftp://x',
      'https://u:p@x',
      'https://x/?a=1',
      'https://x/#f',
    ]) {
      expect(readServerUrl(bad), bad).toBeUndefined()
    }
    expect(readTokenUrl('https://auth.example/token?x=1')).toBe('https://auth.example/token?x=1')
    expect(readTokenUrl('wss://auth.example/token')).toBeUndefined()
  })

  it('falls back to the default server and keeps a generated user stable', async () => {
    const area = memoryArea({ server: 'not a url', tokenUrl: '' })
    expect(await loadSettings(area)).toEqual({ server: DEFAULT_SERVER, tokenUrl: undefined })
    const user = await loadUser(area)
    expect(user.name).toBe('Guest')
    expect(user.color).toMatch(/^#[0-9a-f]{6}$/i)
    expect(await loadUser(area)).toEqual(user)
  })
})

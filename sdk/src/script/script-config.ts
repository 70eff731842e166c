/**
 * Reads the `<script src=".../coedit.js" data-…>` tag into `StartOptions`. Pure apart from
 * building token callbacks (which do nothing until called): the tag, the page's location and the
 * scope holding `data-get-token`'s function come in as arguments, so every rule is unit-tested.
 *
 * A page author's mistake throws `CoeditError` (code `misuse`) naming the attribute and the fix,
 * at load time, where the console points at the tag.
 */
import { CoeditError } from '../protocol/errors.js'
import { isUserColor, type StartOptions } from './start-options.js'
import { tokenFromGlobal, tokenFromUrl } from './token-from-page.js'

/** What is read of the script element. */
export interface ScriptElementLike {
  /** The resolved `src` (empty for an inline script). */
  readonly src: string
  getAttribute(name: string): string | null
}

/** What is read of the page's location. */
export interface LocationLike {
  readonly href: string
  readonly search: string
}

/** PROTOCOL.md §1: room names are 1–512 characters. */
const MAX_ROOM_LENGTH = 512
const SERVER_PROTOCOLS = new Set(['http:', 'https:', 'ws:', 'wss:'])
const TOKEN_URL_PROTOCOLS = new Set(['http:', 'https:'])

const misuse = (attribute: string, fix: string) =>
  new CoeditError('misuse', `coedit.js: ${attribute} ${fix}`)

/** An on/off attribute: `false` when switched off, `undefined` (the default) otherwise. */
const readSwitch = (script: ScriptElementLike, attribute: string): false | undefined => {
  const value = script.getAttribute(attribute)
  if (value === null) return undefined
  const normalized = value.trim().toLowerCase()
  if (normalized === 'off' || normalized === 'false') return false
  if (normalized === 'on' || normalized === 'true' || normalized === '') return undefined
  throw misuse(`${attribute}="${value}"`, 'must be "off" (or "on", the default)')
}

/** The room: the URL parameter `data-room-param` names when present, else `data-room`. */
const readRoom = (script: ScriptElementLike, location: LocationLike): string | undefined => {
  const param = script.getAttribute('data-room-param')
  const fixed = script.getAttribute('data-room')
  if (param !== null && param.trim() === '') {
    throw misuse('data-room-param', 'must name a URL query parameter, like data-room-param="room"')
  }
  if (fixed !== null && fixed.trim() === '') {
    throw misuse('data-room', 'must not be empty: name the room, like data-room="team-notes"')
  }
  const fromUrl = param === null ? null : new URLSearchParams(location.search).get(param.trim())
  const room = fromUrl !== null && fromUrl !== '' ? fromUrl : fixed
  if (room === null) return undefined
  if (room.length > MAX_ROOM_LENGTH) {
    const source = room === fixed ? 'data-room' : `the URL parameter "${param ?? ''}"`
    throw misuse(source, `names a room longer than ${MAX_ROOM_LENGTH} characters`)
  }
  return room
}

/** `data-server`, defaulting to the origin the script was loaded from. */
const readServer = (script: ScriptElementLike): string => {
  const value = script.getAttribute('data-server')
  if (value === null) {
    if (script.src === '') {
      throw misuse('data-server', 'is needed on an inline script: data-server="https://…"')
    }
    return new URL(script.src).origin
  }
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw misuse(`data-server="${value}"`, 'must be an absolute URL like "https://coedit.example"')
  }
  if (!SERVER_PROTOCOLS.has(url.protocol)) {
    throw misuse(`data-server="${value}"`, 'must use http, https, ws or wss')
  }
  return value.trim()
}

const readUserAttributes = (script: ScriptElementLike): StartOptions['user'] => {
  const name = script.getAttribute('data-user-name')
  const color = script.getAttribute('data-user-color')
  if (name !== null && name.trim() === '') {
    throw misuse('data-user-name', 'must not be empty (leave it out for "Guest NNN")')
  }
  if (color !== null && !isUserColor(color.trim())) {
    throw misuse(`data-user-color="${color}"`, 'must be a colour like "#e91e63" (#rgb, #rrggbb)')
  }
  if (name === null && color === null) return undefined
  return {
    ...(name === null ? {} : { name: name.trim() }),
    ...(color === null ? {} : { color: color.trim() }),
  }
}

const readGetToken = (
  script: ScriptElementLike,
  location: LocationLike,
  scope: object,
): StartOptions['getToken'] => {
  const url = script.getAttribute('data-token-url')
  const name = script.getAttribute('data-get-token')
  if (url !== null && name !== null) {
    throw misuse('data-token-url and data-get-token', 'are alternatives: keep one of them')
  }
  // Throws naming data-get-token when `name` cannot name a global function.
  if (name !== null) return tokenFromGlobal(name.trim(), scope)
  if (url === null) return undefined
  let resolved: URL
  try {
    resolved = new URL(url.trim(), location.href)
  } catch {
    throw misuse(`data-token-url="${url}"`, 'must be a URL, like "/coedit-token"')
  }
  if (url.trim() === '' || !TOKEN_URL_PROTOCOLS.has(resolved.protocol)) {
    throw misuse(`data-token-url="${url}"`, 'must be an http(s) URL, like "/coedit-token"')
  }
  return tokenFromUrl(resolved.href)
}

/**
 * The options the tag asks for, or `undefined` when it names no room (no auto-start: the page
 * calls `Coedit.start` itself). Throws `CoeditError` (code `misuse`) naming a bad attribute.
 */
export const readScriptConfig = (
  script: ScriptElementLike,
  location: LocationLike,
  scope: object,
): StartOptions | undefined => {
  const room = readRoom(script, location)
  if (room === undefined) return undefined
  const webrtc = readSwitch(script, 'data-webrtc')
  const relay = readSwitch(script, 'data-relay')
  if (webrtc === false && relay === false) {
    throw misuse('data-webrtc="off" with data-relay="off"', 'leaves no way to connect: keep one')
  }
  const offline = readSwitch(script, 'data-offline')
  const badge = readSwitch(script, 'data-badge')
  const user = readUserAttributes(script)
  const getToken = readGetToken(script, location, scope)
  return {
    server: readServer(script),
    room,
    ...(user === undefined ? {} : { user }),
    ...(getToken === undefined ? {} : { getToken }),
    ...(webrtc === undefined ? {} : { webrtc }),
    ...(relay === undefined ? {} : { relay }),
    ...(offline === undefined ? {} : { offline }),
    ...(badge === undefined ? {} : { badge }),
  }
}

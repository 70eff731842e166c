/**
 * What the presence badge shows, computed from a session snapshot: who is here (self first), the
 * path edits take, and whether they are saved. Pure, so every rule is unit-tested without a DOM.
 *
 * Remote names and colours arrive already validated by presence (awareness/presence.ts): a colour
 * is `#rgb`/`#rrggbb`/`#rrggbbaa`, a name at most 64 characters. The view still treats names as
 * text only.
 */
import type { Peer, User } from '../awareness/presence.js'
import type { SessionStatus } from '../session.js'

/** `webrtc` when at least one peer is reached directly. */
export type BadgePath = 'webrtc' | 'relay' | 'offline'
/**
 * `saved`: the server has every edit. `saving`: the relay is (re)connecting or sending.
 * `local`: not on the server but in this browser's offline copy. `unsaved`: neither.
 */
export type BadgeSaving = 'saved' | 'saving' | 'local' | 'unsaved'

export interface BadgeChip {
  readonly name: string
  readonly color: string
  /** Black or white, whichever reads better on `color`. */
  readonly textColor: string
  readonly initials: string
  /** Name and path, shown on hover. */
  readonly title: string
  readonly self: boolean
}

export interface BadgeState {
  /** Self first, then at most `MAX_OTHER_CHIPS` others. */
  readonly chips: readonly BadgeChip[]
  /** Others here beyond the chips shown. */
  readonly more: readonly string[]
  readonly path: BadgePath
  readonly saving: BadgeSaving
  readonly saved: boolean
  /** Names of the others here (all of them, in awareness order). */
  readonly names: readonly string[]
}

export interface BadgeInput {
  readonly self: User
  readonly peers: readonly Peer[]
  readonly status: SessionStatus
  readonly saved: boolean
  /** The session keeps an IndexedDB copy (edits survive a reload while offline). */
  readonly offlineCopy: boolean
}

export const PATH_TEXT: Readonly<Record<BadgePath, string>> = {
  webrtc: 'Peer-to-peer',
  relay: 'Relay',
  offline: 'Offline',
}

export const SAVING_TEXT: Readonly<Record<BadgeSaving, string>> = {
  saved: 'Saved',
  saving: 'Saving…',
  local: 'Saved on this device',
  unsaved: 'Not saved',
}

export const MAX_OTHER_CHIPS = 5
/** A peer that publishes no user (a stock y-quill client, say). */
const ANONYMOUS: User = { name: 'Anonymous', color: '#757575' }

export const badgeState = (input: BadgeInput): BadgeState => {
  const { peers, status } = input
  const path: BadgePath = peers.some((peer) => peer.transport === 'webrtc')
    ? 'webrtc'
    : status.relay === 'connected'
      ? 'relay'
      : status.relay === 'disabled' && status.webrtc === 'connected'
        ? 'webrtc' // peer-to-peer only, signaling reached: peers who come will connect directly
        : 'offline'
  const saving: BadgeSaving = input.saved
    ? 'saved'
    : status.relay === 'connected' || status.relay === 'connecting'
      ? 'saving'
      : input.offlineCopy
        ? 'local'
        : 'unsaved'
  const others = peers.map((peer) => ({
    user: peer.user ?? ANONYMOUS,
    path: PATH_TEXT[peer.transport],
  }))
  const chips = [
    chip(input.self, `${input.self.name} (you) · ${PATH_TEXT[path]}`, true),
    ...others
      .slice(0, MAX_OTHER_CHIPS)
      .map(({ user, path: via }) => chip(user, `${user.name} · ${via}`, false)),
  ]
  return {
    chips,
    more: others.slice(MAX_OTHER_CHIPS).map(({ user }) => user.name),
    path,
    saving,
    saved: input.saved,
    names: others.map(({ user }) => user.name),
  }
}

const chip = (user: User, title: string, self: boolean): BadgeChip => ({
  name: user.name,
  color: user.color,
  textColor: readableOn(user.color),
  initials: initials(user.name),
  title,
  self,
})

/** Up to two initials: the first letter of the first and the last word; `?` if none. */
export const initials = (name: string): string => {
  const words = name.trim().split(/\s+/)
  const letters = [words[0], words.length > 1 ? words.at(-1) : undefined]
    .map((word) => Array.from(word ?? '').find((char) => /\p{L}|\p{N}/u.test(char)))
    .filter((char): char is string => char !== undefined)
  const first = letters[0]
  if (first === undefined) return Array.from(name.trim())[0] ?? '?'
  // "Guest 042" reads better as "G" than "G0".
  const second = letters[1]
  return (second !== undefined && /\p{L}/u.test(second) ? first + second : first).toUpperCase()
}

/** `#000` or `#fff`, whichever contrasts more with the (validated) hex colour. */
export const readableOn = (color: string): string => {
  const hex = color.slice(1)
  const digits =
    hex.length <= 4
      ? [...hex.slice(0, 3)].map((d) => d + d)
      : [0, 2, 4].map((i) => hex.slice(i, i + 2))
  const [r = 0, g = 0, b = 0] = digits.map((pair) => {
    const channel = Number.parseInt(pair, 16) / 255
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4
  })
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
  // Contrast against white vs black: (1.05)/(L+0.05) vs (L+0.05)/0.05; equal at L ≈ 0.179.
  return luminance > 0.179 ? '#000' : '#fff'
}

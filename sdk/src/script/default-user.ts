/**
 * The user shown to others when the page names nobody: "Guest NNN" in a palette colour, both
 * derived from the document's client id so every peer and the badge agree on them, and two
 * guests rarely look alike.
 */
import type { User } from '../awareness/presence.js'

export const GUEST_PALETTE = [
  '#d81b60',
  '#8e24aa',
  '#3949ab',
  '#1e88e5',
  '#00897b',
  '#43a047',
  '#f4511e',
  '#6d4c41',
] as const

/** `user` with its missing name or colour filled in from `clientId`. */
export const withDefaults = (clientId: number, user: Partial<User> = {}): User => ({
  name: user.name?.trim() || `Guest ${String(clientId % 1000).padStart(3, '0')}`,
  color: user.color ?? GUEST_PALETTE[clientId % GUEST_PALETTE.length] ?? GUEST_PALETTE[0],
})

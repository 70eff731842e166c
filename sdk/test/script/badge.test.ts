// @vitest-environment happy-dom
/**
 * The presence badge against a fake session: chips, connection path, saved state, the host's
 * data-* attributes, hostile names rendered as text only, and a clean `destroy()`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Peer, User } from '../../src/awareness/presence.js'
import { createEmitter } from '../../src/events.js'
import type { SessionEvents, SessionStatus } from '../../src/session.js'
import { createBadge, type BadgeSession } from '../../src/script/badge.js'
import { initials, readableOn } from '../../src/script/badge-state.js'

const SELF: User = { name: 'Ada Lovelace', color: '#e91e63' }
const HOSTILE = '<img src=x onerror=alert(1)>'

/** A session-like object whose state the test sets; counts live subscriptions. */
const fakeSession = () => {
  const events = createEmitter<SessionEvents>()
  let peers: readonly Peer[] = []
  let status: SessionStatus = { relay: 'connecting', webrtc: 'disabled' }
  let saved = false
  let subscriptions = 0
  const session: BadgeSession = {
    peers: () => peers,
    get status() {
      return status
    },
    get saved() {
      return saved
    },
    on(event, listener) {
      subscriptions++
      const off = events.on(event, listener)
      let on = true
      return () => {
        if (on) subscriptions--
        on = false
        off()
      }
    },
  }
  return {
    session,
    subscriptions: () => subscriptions,
    setPeers(next: readonly Peer[]) {
      peers = next
      events.emit('peers', { peers })
    },
    setStatus(next: SessionStatus) {
      status = next
      events.emit('status', { ...next, transport: 'relay' })
    },
    setSaved(next: boolean) {
      saved = next
      events.emit('saved', { saved })
    },
  }
}

const peer = (clientId: number, user: User | undefined, transport: Peer['transport']): Peer => ({
  clientId,
  user,
  cursor: undefined,
  transport,
})

const badges: { destroy(): void }[] = []
afterEach(() => {
  for (const badge of badges.splice(0)) badge.destroy()
  document.body.replaceChildren()
})

const start = (offlineCopy = true, container?: HTMLElement) => {
  const fake = fakeSession()
  const badge = createBadge({
    session: fake.session,
    document,
    self: () => SELF,
    offlineCopy,
    ...(container === undefined ? {} : { container }),
  })
  badges.push(badge)
  const root = badge.element.shadowRoot
  if (root === null) throw new Error('the badge must have an open shadow root')
  const chips = () =>
    [...root.querySelectorAll<HTMLElement>('[part="chip"]')].map((chip) => ({
      text: chip.textContent,
      title: chip.title,
      color: chip.style.backgroundColor,
    }))
  const status = () => root.querySelector('[part="status"]')?.textContent
  return { ...fake, badge, host: badge.element, root, chips, status }
}

describe('presence badge', () => {
  it('is a [data-coedit-badge] host at the end of <body> with an open shadow root', () => {
    const { host, root } = start()
    expect(host.parentElement).toBe(document.body)
    expect(host.hasAttribute('data-coedit-badge')).toBe(true)
    expect(root.querySelector('[part="badge"]')).not.toBeNull()
    expect(root.querySelector('[part="status"]')).not.toBeNull()
  })

  it('shows self first, then one chip per person here, with initials, colour and a title', () => {
    const { chips, setPeers, host } = start()
    setPeers([
      peer(2, { name: 'Grace Hopper', color: '#3949ab' }, 'webrtc'),
      peer(3, { name: 'linus', color: '#00897b' }, 'relay'),
    ])
    expect(chips()).toEqual([
      { text: 'AL', title: 'Ada Lovelace (you) · Peer-to-peer', color: expect.any(String) },
      { text: 'GH', title: 'Grace Hopper · Peer-to-peer', color: expect.any(String) },
      { text: 'L', title: 'linus · Relay', color: expect.any(String) },
    ])
    expect(chips()[0]?.color).not.toBe('')
    expect(host.dataset['peers']).toBe('2')
    expect(JSON.parse(host.dataset['names'] ?? '')).toEqual(['Grace Hopper', 'linus'])
  })

  it('shows the path: Peer-to-peer with a direct peer, Relay when connected, else Offline', () => {
    const { host, status, setStatus, setPeers } = start()
    expect(host.dataset['path']).toBe('offline')
    expect(status()).toContain('Offline')
    setStatus({ relay: 'connected', webrtc: 'connecting' })
    expect(host.dataset['path']).toBe('relay')
    expect(status()).toContain('Relay')
    setPeers([peer(2, { name: 'Grace', color: '#123' }, 'webrtc')])
    expect(host.dataset['path']).toBe('webrtc')
    expect(status()).toContain('Peer-to-peer')
    setPeers([peer(2, { name: 'Grace', color: '#123' }, 'relay')])
    expect(host.dataset['path']).toBe('relay')
  })

  it('shows Saved, Saving… and Saved on this device', () => {
    const { host, status, setStatus, setSaved } = start(true)
    expect(status()).toContain('Saving…') // relay connecting, nothing acknowledged yet
    setStatus({ relay: 'connected', webrtc: 'disabled' })
    setSaved(true)
    expect(host.dataset['saved']).toBe('true')
    expect(status()).toContain('Saved')
    setSaved(false)
    expect(status()).toContain('Saving…')
    setStatus({ relay: 'offline', webrtc: 'disabled' })
    expect(host.dataset['saved']).toBe('false')
    expect(status()).toContain('Saved on this device')
  })

  it('says Not saved when offline without an offline copy', () => {
    const { status, setStatus } = start(false)
    setStatus({ relay: 'offline', webrtc: 'disabled' })
    expect(status()).toContain('Not saved')
  })

  it('renders a hostile name as text: no element is created from it', () => {
    const { host, root, chips, setPeers } = start()
    setPeers([peer(2, { name: HOSTILE, color: '#000' }, 'relay'), peer(3, undefined, 'relay')])
    expect(chips()[1]?.title).toBe(`${HOSTILE} · Relay`)
    expect(JSON.parse(host.dataset['names'] ?? '')).toEqual([HOSTILE, 'Anonymous'])
    expect(root.querySelector('img')).toBeNull()
    expect(document.querySelector('img')).toBeNull()
    for (const chip of root.querySelectorAll('[part="chip"]')) {
      expect([...chip.childNodes].every((node) => node.nodeType === Node.TEXT_NODE)).toBe(true)
    }
  })

  it('folds people beyond five others into a +N chip naming them', () => {
    const { chips, setPeers, host } = start()
    setPeers(
      Array.from({ length: 7 }, (_, i) => peer(i + 2, { name: `P${i}`, color: '#111' }, 'relay')),
    )
    expect(chips()).toHaveLength(7) // self, five others, +2
    expect(chips().at(-1)).toMatchObject({ text: '+2', title: 'P5, P6' })
    expect(host.dataset['peers']).toBe('7')
  })

  it('goes inside a given container instead of <body>', () => {
    const container = document.createElement('aside')
    document.body.append(container)
    const { host } = start(true, container)
    expect(host.parentElement).toBe(container)
    expect(host.hasAttribute('data-inline')).toBe(true)
  })

  it('destroy() removes the element and every session subscription', () => {
    const { badge, host, subscriptions, setPeers, setSaved } = start()
    expect(subscriptions()).toBe(3)
    badge.destroy()
    expect(host.isConnected).toBe(false)
    expect(document.querySelector('[data-coedit-badge]')).toBeNull()
    expect(subscriptions()).toBe(0)
    setPeers([peer(2, { name: 'Late', color: '#123' }, 'relay')])
    setSaved(true)
    expect(host.dataset['peers']).toBe('0')
    badge.destroy() // idempotent
  })
})

describe('badge helpers', () => {
  it('takes initials from the first and last word, skipping numbers after a word', () => {
    expect(initials('Ada Lovelace')).toBe('AL')
    expect(initials('Grace Brewster Hopper')).toBe('GH')
    expect(initials('Guest 042')).toBe('G')
    expect(initials('élodie durand')).toBe('ÉD')
    expect(initials('  ')).toBe('?')
    expect(initials('🙂')).toBe('🙂')
  })

  it('picks the readable text colour on a chip colour', () => {
    expect(readableOn('#000')).toBe('#fff')
    expect(readableOn('#3949ab')).toBe('#fff')
    expect(readableOn('#ffeb3b')).toBe('#000')
    expect(readableOn('#ffffff80')).toBe('#000')
  })
})

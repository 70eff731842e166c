/**
 * The readers at the background's and the offscreen host's boundaries: what they accept, and
 * that anything else comes back `undefined` instead of being used.
 */
import { describe, expect, it } from 'vitest'
import { readBackgroundToHost, readHostToBackground } from '../../src/host/host-link-messages.js'
import {
  readContentRequest,
  readInvite,
  readPageUrl,
  readPopupRequest,
  readPopupResponse,
  readPopupWatch,
  readUserSettings,
} from '../../src/shared/requests.js'

const invite = { v: 1, room: 'r'.repeat(22), key: 'k'.repeat(43), server: 'http://localhost:8787' }

describe('popup requests', () => {
  it('reads each request type', () => {
    expect(readPopupRequest({ type: 'share', tabId: 3 })).toEqual({ type: 'share', tabId: 3 })
    expect(readPopupRequest({ type: 'stop', tabId: 0 })).toEqual({ type: 'stop', tabId: 0 })
    expect(readPopupRequest({ type: 'state', tabId: 1 })).toEqual({ type: 'state', tabId: 1 })
    expect(readPopupRequest({ type: 'pick', tabId: 1 })).toEqual({ type: 'pick', tabId: 1 })
    expect(readPopupRequest({ type: 'join', tabId: 2, invite })).toEqual({
      type: 'join',
      tabId: 2,
      invite,
    })
    expect(
      readPopupRequest({ type: 'join', tabId: 2, invite, page: 'https://a.example/p?q=1#frag' }),
    ).toEqual({ type: 'join', tabId: 2, invite, page: 'https://a.example/p?q=1' })
    expect(readPopupRequest({ type: 'user', user: { name: ' Ada ', color: '#3366ff' } })).toEqual({
      type: 'user',
      user: { name: 'Ada', color: '#3366ff' },
    })
  })

  it('rejects malformed requests', () => {
    for (const bad of [
      null,
      'share',
      { type: 'share' },
      { type: 'share', tabId: -1 },
      { type: 'share', tabId: 1.5 },
      { type: 'share', tabId: '1' },
      { type: 'nuke', tabId: 1 },
      { type: 'join', tabId: 1 },
      { type: 'join', tabId: 1, invite: { ...invite, key: 'short' } },
      { type: 'join', tabId: 1, invite: { ...invite, server: 'file:///etc' } },
      { type: 'join', tabId: 1, invite, page: 'javascript:alert(1)' },
      { type: 'user', user: { name: '', color: '#3366ff' } },
      { type: 'user', user: { name: 'Ada', color: 'red' } },
    ]) {
      expect(readPopupRequest(bad), JSON.stringify(bad)).toBeUndefined()
    }
  })

  it('reads watches, responses and content requests', () => {
    expect(readPopupWatch({ type: 'watch', tabId: 4 })).toEqual({ type: 'watch', tabId: 4 })
    expect(readPopupWatch({ type: 'watch' })).toBeUndefined()
    expect(readPopupResponse(undefined)).toBeUndefined()
    expect(readPopupResponse({ ok: false, error: 'no' })).toEqual({ ok: false, error: 'no' })
    expect(readPopupResponse({ ok: true, view: { shared: false } })).toEqual({
      ok: true,
      view: { shared: false },
    })
    expect(readContentRequest({ type: 'coedit:inject-quill-bridge' })).toEqual({
      type: 'coedit:inject-quill-bridge',
    })
    expect(readContentRequest({ type: 'share', tabId: 1 })).toBeUndefined()
  })

  it('normalises invites, pages and users', () => {
    expect(readInvite(invite)).toEqual(invite)
    expect(readInvite({ ...invite, v: 2 })).toBeUndefined()
    expect(readPageUrl('http://127.0.0.1:8080/x#coedit-invite=abc')).toBe('http://127.0.0.1:8080/x')
    expect(readPageUrl('chrome://settings')).toBeUndefined()
    expect(readUserSettings({ name: 'x'.repeat(65), color: '#000000' })).toBeUndefined()
  })
})

describe('offscreen host link messages', () => {
  const share = { tabId: 1, room: invite.room, key: invite.key, server: invite.server }

  it('reads what the service worker sends and refuses malformed shares', () => {
    expect(readBackgroundToHost({ kind: 'attach', share })).toEqual({ kind: 'attach', share })
    expect(
      readBackgroundToHost({
        kind: 'attach',
        share: { ...share, user: { name: 'A', color: 'x' } },
      }),
    ).toBeUndefined()
    expect(readBackgroundToHost({ kind: 'reconcile', shares: [share] })).toEqual({
      kind: 'reconcile',
      shares: [share],
    })
    expect(readBackgroundToHost({ kind: 'reconcile', shares: [share, {}] })).toBeUndefined()
    expect(readBackgroundToHost({ kind: 'message', connectionId: 2, data: 'anything' })).toEqual({
      kind: 'message',
      connectionId: 2,
      data: 'anything',
    })
    expect(readBackgroundToHost({ kind: 'open', connectionId: 2 })).toBeUndefined()
  })

  it('reads what the host sends, validating relayed content messages', () => {
    const status = { relay: 'connected', webrtc: 'disabled', saved: true, synced: true, peers: [] }
    expect(readHostToBackground({ kind: 'status', tabId: 1, status })).toEqual({
      kind: 'status',
      tabId: 1,
      status,
    })
    expect(
      readHostToBackground({ kind: 'status', tabId: 1, status: { ...status, relay: 'up' } }),
    ).toBeUndefined()
    expect(
      readHostToBackground({
        kind: 'message',
        connectionId: 1,
        message: { type: 'update', update: 'AA==' },
      }),
    ).toEqual({ kind: 'message', connectionId: 1, message: { type: 'update', update: 'AA==' } })
    expect(
      readHostToBackground({ kind: 'message', connectionId: 1, message: { type: 'eval' } }),
    ).toBeUndefined()
  })
})

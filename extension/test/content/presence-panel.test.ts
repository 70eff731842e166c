// @vitest-environment happy-dom
/**
 * The presence panel: who is here and by which path, saved or not, fields not found, the stop
 * notice; remote names as text only; mirrored in data attributes.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createPresencePanel, PANEL_ATTRIBUTE } from '../../src/content/presence-panel.js'
import type { HostStatus } from '../../src/content/replica.js'

afterEach(() => {
  document.body.replaceChildren()
})

const STATUS: HostStatus = {
  relay: 'connected',
  webrtc: 'connected',
  saved: true,
  synced: true,
  peers: [],
}

const shadow = (host: HTMLElement) => {
  if (host.shadowRoot === null) throw new Error('no shadow root')
  return host.shadowRoot
}

describe('presence panel', () => {
  it('mounts one host at the end of the body, connecting until the first status', () => {
    const panel = createPresencePanel(document)
    expect(document.querySelectorAll(`[${PANEL_ATTRIBUTE}]`)).toHaveLength(1)
    expect(document.body.lastElementChild).toBe(panel.element)
    expect(panel.element.getAttribute('data-state')).toBe('connecting')
    expect(shadow(panel.element).textContent).toContain('Connecting…')
  })

  it('lists the others with their colour and path, and whether edits are saved', () => {
    const panel = createPresencePanel(document)
    panel.setStatus({
      ...STATUS,
      saved: false,
      peers: [
        { name: 'Ada', color: '#ff0000', transport: 'webrtc' },
        {
          name: '<img src=x onerror=alert(1)>',
          color: 'red; background: url(x)',
          transport: 'relay',
        },
      ],
    })
    const host = panel.element
    expect(host.getAttribute('data-state')).toBe('live')
    expect(host.getAttribute('data-peers')).toBe('2')
    expect(host.getAttribute('data-saved')).toBe('false')
    expect(JSON.parse(host.getAttribute('data-names') ?? '')).toEqual([
      'Ada',
      '<img src=x onerror=alert(1)>',
    ])
    const root = shadow(host)
    expect(root.querySelector('img')).toBeNull() // names are text
    const items = Array.from(root.querySelectorAll('.people li'))
    expect(items.map((item) => item.textContent)).toEqual([
      'Adapeer-to-peer',
      '<img src=x onerror=alert(1)>via relay',
    ])
    const dots = Array.from(root.querySelectorAll<HTMLElement>('.dot'))
    expect(dots[0]?.style.getPropertyValue('background')).toMatch(/ff0000|255, 0, 0/)
    expect(dots[1]?.style.getPropertyValue('background')).toMatch(/757575|117, 117, 117/)
    expect(root.querySelector('.status')?.textContent).toBe(
      'you and 2 others · Peer-to-peer · Saving…',
    )

    panel.setStatus({ ...STATUS, relay: 'offline', webrtc: 'offline', saved: false })
    expect(root.querySelector('.status')?.textContent).toBe('only you · Offline · Not saved')
    expect(host.getAttribute('data-peers')).toBe('0')
    panel.setStatus({ ...STATUS, webrtc: 'offline' })
    expect(root.querySelector('.status')?.textContent).toBe('only you · Relay · Saved')
    expect(host.getAttribute('data-saved')).toBe('true')
  })

  it('shows fields that could not be found', () => {
    const panel = createPresencePanel(document)
    panel.setProblems(['Could not find the field "Summary" (textarea) on this page'])
    expect(panel.element.getAttribute('data-errors')).toBe('1')
    expect(shadow(panel.element).querySelector('.problems')?.textContent).toBe(
      'Could not find the field "Summary" (textarea) on this page',
    )
    panel.setProblems([])
    expect(panel.element.getAttribute('data-errors')).toBe('0')
  })

  it('shows a stop notice that can be dismissed, and ignores later status', () => {
    const panel = createPresencePanel(document)
    panel.setStatus({ ...STATUS, peers: [{ name: 'Ada', color: '#f00', transport: 'relay' }] })
    panel.showNotice('Coedit was updated or reloaded — reload this page to keep editing together')
    const root = shadow(panel.element)
    expect(panel.element.getAttribute('data-state')).toBe('stopped')
    expect(panel.element.getAttribute('data-peers')).toBe('0')
    expect(root.querySelector('.notice')?.textContent).toBe(
      'Coedit was updated or reloaded — reload this page to keep editing together',
    )
    panel.setStatus(STATUS)
    expect(panel.element.getAttribute('data-state')).toBe('stopped')
    root.querySelector<HTMLButtonElement>('.close')?.click()
    expect(panel.element.isConnected).toBe(false)
  })

  it('destroy removes the host', () => {
    const panel = createPresencePanel(document)
    panel.destroy()
    panel.destroy()
    expect(document.querySelector(`[${PANEL_ATTRIBUTE}]`)).toBeNull()
  })
})

// @vitest-environment happy-dom
/**
 * `Coedit.start` and the `window.Coedit` object on a real session with nothing to connect to
 * (relay and WebRTC off): the ready event, fields and badge, the default user, the current
 * instance, misuse, and a `destroy()` that leaves nothing behind.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { CoeditError } from '../../src/protocol/errors.js'
import { createCoeditGlobal, READY_EVENT } from '../../src/script/coedit-global.js'
import { GUEST_PALETTE } from '../../src/script/default-user.js'
import type { CoeditInstance } from '../../src/script/start.js'
import type { StartOptions } from '../../src/script/start-options.js'

const OPTIONS: StartOptions = {
  server: 'http://127.0.0.1:9',
  room: 'start-test',
  relay: false,
  webrtc: false,
  offline: false,
}

const instances: CoeditInstance[] = []
afterEach(async () => {
  for (const instance of instances.splice(0)) await instance.destroy()
  document.body.replaceChildren()
})

const startOn = (
  coedit: ReturnType<typeof createCoeditGlobal>,
  options: Partial<StartOptions> = {},
) => {
  const instance = coedit.start({ ...OPTIONS, ...options })
  instances.push(instance)
  return instance
}

const marked = (field: string, value: string) => {
  const element = document.createElement('textarea')
  element.setAttribute('data-coedit', field)
  element.value = value
  document.body.append(element)
  return element
}

const localUser = (instance: CoeditInstance) => instance.session.awareness.getLocalState()?.['user']

describe('Coedit.start', () => {
  it('dispatches coedit:ready on document with the instance, already current', () => {
    const coedit = createCoeditGlobal(document, '1.2.3')
    const seen: unknown[] = []
    const onReady = (event: Event) => {
      const { detail } = event as CustomEvent<CoeditInstance>
      seen.push(detail, coedit.instance)
    }
    document.addEventListener(READY_EVENT, onReady)
    const instance = startOn(coedit)
    document.removeEventListener(READY_EVENT, onReady)
    expect(seen).toEqual([instance, instance])
    expect(coedit.version).toBe('1.2.3')
  })

  it('binds [data-coedit] fields and shows the badge by default', () => {
    const summary = marked('summary', 'from the page')
    const coedit = createCoeditGlobal(document, 'test')
    const instance = startOn(coedit)
    expect(instance.session.getText('summary').toString()).toBe('from the page')
    instance.session.doc.transact(() => instance.session.getText('summary').insert(0, '> '), 'x')
    expect(summary.value).toBe('> from the page')
    const badge = document.querySelector('[data-coedit-badge]')
    expect(badge?.parentElement).toBe(document.body)
    expect(badge?.getAttribute('data-peers')).toBe('0')
  })

  it('binds nothing on its own with bindAll: false, and shows no badge with badge: false', () => {
    const summary = marked('summary', 'page')
    const coedit = createCoeditGlobal(document, 'test')
    const instance = startOn(coedit, { bindAll: false, badge: false })
    expect(instance.session.getText('summary').length).toBe(0)
    expect(document.querySelector('[data-coedit-badge]')).toBeNull()
    const binding = coedit.bind(summary, 'summary')
    expect(binding.kind).toBe('text-field')
    expect(instance.session.getText('summary').toString()).toBe('page')
  })

  it('puts the badge in a given container', () => {
    const container = document.createElement('footer')
    document.body.append(container)
    startOn(createCoeditGlobal(document, 'test'), { badge: container })
    expect(container.querySelector('[data-coedit-badge]')).not.toBeNull()
  })

  it('names an anonymous user "Guest NNN" in a palette colour from the client id', () => {
    const instance = startOn(createCoeditGlobal(document, 'test'))
    const id = instance.session.doc.clientID
    expect(localUser(instance)).toEqual({
      name: `Guest ${String(id % 1000).padStart(3, '0')}`,
      color: GUEST_PALETTE[id % GUEST_PALETTE.length],
    })
  })

  it('fills in only what the page left out of the user', () => {
    const instance = startOn(createCoeditGlobal(document, 'test'), { user: { name: 'Ada' } })
    expect(localUser(instance)).toMatchObject({ name: 'Ada', color: expect.stringMatching(/^#/) })
  })

  it('throws CoeditError code not-started from bind and on before a start and after destroy', async () => {
    const coedit = createCoeditGlobal(document, 'test')
    const notStarted = (run: () => unknown) => {
      try {
        run()
      } catch (error) {
        return error instanceof CoeditError ? error.code : error
      }
      return 'nothing thrown'
    }
    expect(notStarted(() => coedit.on('saved', () => undefined))).toBe('not-started')
    expect(notStarted(() => coedit.bind(document.body, 'x'))).toBe('not-started')
    const instance = startOn(coedit)
    const off = coedit.on('saved', () => undefined)
    off()
    await instance.destroy()
    expect(coedit.instance).toBeUndefined()
    expect(notStarted(() => coedit.on('saved', () => undefined))).toBe('not-started')
  })

  it('throws a CoeditError naming the option for bad script options, leaving nothing behind', () => {
    const coedit = createCoeditGlobal(document, 'test')
    expect(() => coedit.start({ ...OPTIONS, user: { color: 'red' } })).toThrow(/user\.color/)
    expect(() => coedit.start({ ...OPTIONS, badge: 'yes' as unknown as boolean })).toThrow(
      /`badge`/,
    )
    expect(() => coedit.start({ ...OPTIONS, room: '' })).toThrow(/room/)
    expect(coedit.instance).toBeUndefined()
    expect(document.querySelector('[data-coedit-badge]')).toBeNull()
  })

  it('destroy() unbinds fields, stops watching, removes the badge and ends the session', async () => {
    const summary = marked('summary', 'page')
    const coedit = createCoeditGlobal(document, 'test')
    const instance = startOn(coedit)
    const { doc } = instance.session
    const destroyed = instance.destroy()
    expect(instance.destroy()).toBe(destroyed)
    await destroyed
    expect(document.querySelector('[data-coedit-badge]')).toBeNull()
    expect(doc.isDestroyed).toBe(true)
    expect(instance.session.awareness.getLocalState()).toBeNull()
    summary.value = 'typed after destroy'
    summary.dispatchEvent(new InputEvent('input', { bubbles: true }))
    expect(doc.getText('summary').toString()).toBe('page')
    expect(() => instance.bind(summary, 'summary')).toThrow(/destroyed/)
  })
})

// @vitest-environment happy-dom
/**
 * The zero-code path: a script tag naming a room starts once the DOM is parsed; one naming none
 * starts nothing; a bad attribute throws at load, before anything starts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { CoeditError } from '../../src/protocol/errors.js'
import { autoStart } from '../../src/script/auto-start.js'
import type { StartOptions } from '../../src/script/start-options.js'

const location = { href: 'https://site.example/page?room=from-url', search: '?room=from-url' }

const scriptTag = (attributes: Record<string, string>) => {
  const script = document.createElement('script')
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value)
  script.src = 'https://coedit.example/coedit.js'
  return script
}

/** A `Coedit` whose `start` only records its options. */
const recorder = () => {
  const started: StartOptions[] = []
  return {
    started,
    coedit: {
      start: (options: StartOptions) => {
        started.push(options)
        return undefined as never
      },
    },
  }
}

afterEach(() => {
  // Undo the `readyState` override of the loading-document test.
  delete (document as { readyState?: unknown }).readyState
})

describe('autoStart', () => {
  it('starts at once with the tag options when the DOM is already parsed', () => {
    const { coedit, started } = recorder()
    const script = scriptTag({ 'data-room': 'fixed', 'data-room-param': 'room' })
    expect(autoStart({ coedit, document, script, location, scope: window })).toBe(true)
    expect(started).toEqual([{ server: 'https://coedit.example', room: 'from-url' }])
  })

  it('waits for DOMContentLoaded while the document is loading', () => {
    Object.defineProperty(document, 'readyState', { value: 'loading', configurable: true })
    const { coedit, started } = recorder()
    const script = scriptTag({ 'data-room': 'r' })
    expect(autoStart({ coedit, document, script, location, scope: window })).toBe(true)
    expect(started).toEqual([])
    document.dispatchEvent(new Event('DOMContentLoaded'))
    document.dispatchEvent(new Event('DOMContentLoaded'))
    expect(started).toHaveLength(1)
  })

  it('starts nothing without a room or without a script element', () => {
    const { coedit, started } = recorder()
    expect(autoStart({ coedit, document, script: scriptTag({}), location, scope: window })).toBe(
      false,
    )
    expect(autoStart({ coedit, document, script: null, location, scope: window })).toBe(false)
    expect(started).toEqual([])
  })

  it('throws a CoeditError naming a bad attribute at load, and starts nothing', () => {
    const { coedit, started } = recorder()
    const script = scriptTag({ 'data-room': 'r', 'data-user-color': 'red' })
    expect(() => autoStart({ coedit, document, script, location, scope: window })).toThrow(
      CoeditError,
    )
    expect(() => autoStart({ coedit, document, script, location, scope: window })).toThrow(
      /data-user-color/,
    )
    expect(started).toEqual([])
  })
})

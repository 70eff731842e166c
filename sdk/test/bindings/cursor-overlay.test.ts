// @vitest-environment happy-dom
/**
 * The remote-cursor overlay: boxes for selections, carets and name labels in a closed shadow
 * root (captured here through `attachShadow`), names as text, and nothing left after destroy().
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createCursorOverlay } from '../../src/bindings/cursor-overlay.js'

afterEach(() => {
  vi.restoreAllMocks()
})

/** Creates an overlay and hands back its (closed) shadow root as well. */
const overlayWithRoot = () => {
  const attach = vi.spyOn(Element.prototype, 'attachShadow')
  const overlay = createCursorOverlay(document)
  const root = attach.mock.results[0]?.value as ShadowRoot
  return { overlay, root }
}

describe('cursor overlay', () => {
  it('draws a selection at its width, a 2 px caret, and a label sized by its name', () => {
    const { overlay, root } = overlayWithRoot()
    overlay.render([
      {
        clientId: 7,
        name: '<b>Grace</b>',
        color: '#2a9d8f',
        caret: new DOMRect(120, 40, 0, 18),
        selection: [new DOMRect(20, 40, 100, 18)],
      },
    ])
    const [selection, caret, label] = [...root.querySelectorAll<HTMLElement>('div > div')]
    expect(selection?.className).toBe('sel')
    expect(selection?.style.width).toBe('100px')
    expect(caret?.className).toBe('caret')
    expect(caret?.style.width).toBe('')
    expect(label?.className).toBe('label')
    // A width from the caret's rect (0 px) would clip the name to a sliver.
    expect(label?.style.width).toBe('')
    expect(label?.style.left).toBe('120px')
    expect(label?.textContent).toBe('<b>Grace</b>')
    expect(label?.children).toHaveLength(0)
    overlay.destroy()
    expect(document.querySelector('coedit-cursors')).toBeNull()
  })
})

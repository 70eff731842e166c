/**
 * Where a character index of a `<textarea>` or `<input>` is on screen. A field exposes no layout
 * for its text, so we lay the same text out in a hidden "mirror" element with the field's
 * computed font, padding, border, width and wrapping (the textarea-caret-position technique) and
 * measure there. The mirror lives in a closed shadow root of our own host, off screen: never
 * inside the page's element, so neither the page nor the binding's diffing ever sees it.
 */
export interface CaretGeometry {
  /** The caret before display index `index`, in viewport coordinates; null when scrolled away. */
  caret(index: number): DOMRect | null
  /** The visible parts of the display range `[from, to)`, one rect per line, viewport coords. */
  selection(from: number, to: number): DOMRect[]
  destroy(): void
}

// Everything that changes where text wraps or how wide it is.
const COPIED = [
  'direction',
  'box-sizing',
  'width',
  'border-top-width',
  'border-right-width',
  'border-bottom-width',
  'border-left-width',
  'padding-top',
  'padding-right',
  'padding-bottom',
  'padding-left',
  'font-style',
  'font-variant',
  'font-weight',
  'font-stretch',
  'font-size',
  'font-size-adjust',
  'line-height',
  'font-family',
  'font-feature-settings',
  'font-kerning',
  'text-align',
  'text-transform',
  'text-indent',
  'letter-spacing',
  'word-spacing',
  'tab-size',
] as const

export const createCaretGeometry = (
  element: HTMLTextAreaElement | HTMLInputElement,
): CaretGeometry => {
  const doc = element.ownerDocument
  const view = doc.defaultView ?? window
  const host = doc.createElement('coedit-measure')
  host.style.setProperty('position', 'fixed')
  host.style.setProperty('left', '-100000px')
  host.style.setProperty('top', '0')
  host.style.setProperty('visibility', 'hidden')
  host.style.setProperty('pointer-events', 'none')
  const root = host.attachShadow({ mode: 'closed' })
  const mirror = doc.createElement('div')
  root.append(mirror)
  doc.body.append(host)
  const singleLine = element instanceof view.HTMLInputElement

  /** Lays `value` out in the mirror; returns the text node and the mirror's content offsets. */
  const layout = (value: string) => {
    const computed = view.getComputedStyle(element)
    for (const name of COPIED) mirror.style.setProperty(name, computed.getPropertyValue(name))
    mirror.style.setProperty('position', 'absolute')
    mirror.style.setProperty('border-style', 'solid')
    mirror.style.setProperty('border-color', 'transparent')
    mirror.style.setProperty('white-space', singleLine ? 'pre' : 'pre-wrap')
    mirror.style.setProperty('overflow-wrap', singleLine ? 'normal' : 'break-word')
    // A textarea's scrollbar narrows its text: give the mirror the same scrollbar.
    const scrolls = !singleLine && element.scrollHeight > element.clientHeight
    mirror.style.setProperty('overflow-y', scrolls ? 'scroll' : 'hidden')
    // A trailing newline needs a character after it to make its line exist.
    const text = doc.createTextNode(value + '\u200b')
    mirror.replaceChildren(text)
    return text
  }

  /** Turns a rect measured in the mirror into one over the field, or null when out of view. */
  const place = (rect: DOMRect, clip: boolean): DOMRect | null => {
    const origin = mirror.getBoundingClientRect()
    const field = element.getBoundingClientRect()
    let top = field.top + rect.top - origin.top - element.scrollTop
    if (singleLine) {
      // An input centres its one line vertically.
      top = field.top + element.clientTop + (element.clientHeight - rect.height) / 2
    }
    const left = field.left + rect.left - origin.left - element.scrollLeft
    const inner = {
      left: field.left + element.clientLeft,
      top: field.top + element.clientTop,
      right: field.left + element.clientLeft + element.clientWidth,
      bottom: field.top + element.clientTop + element.clientHeight,
    }
    const right = Math.min(left + rect.width, inner.right)
    const bottom = Math.min(top + rect.height, inner.bottom)
    const clippedLeft = Math.max(left, inner.left)
    const clippedTop = Math.max(top, inner.top)
    if (clip && (right < clippedLeft || bottom <= clippedTop)) return null
    return new DOMRect(clippedLeft, clippedTop, right - clippedLeft, bottom - clippedTop)
  }

  const range = (node: Text, from: number, to: number) => {
    const r = doc.createRange()
    r.setStart(node, from)
    r.setEnd(node, to)
    return r
  }

  return {
    caret(index) {
      const value = element.value
      const at = Math.max(0, Math.min(index, value.length))
      const node = layout(value)
      // The box of the character after the caret (the zero-width space at the end): its left
      // edge is the caret, and it sits on the caret's line even right after a wrap.
      const rect = range(node, at, at + 1).getBoundingClientRect()
      return place(new DOMRect(rect.left, rect.top, 0, rect.height), true)
    },
    selection(from, to) {
      const value = element.value
      const start = Math.max(0, Math.min(from, value.length))
      const end = Math.max(start, Math.min(to, value.length))
      if (start === end) return []
      const node = layout(value)
      const rects: DOMRect[] = []
      for (const rect of range(node, start, end).getClientRects()) {
        const placed = place(rect, true)
        if (placed !== null && placed.width > 0) rects.push(placed)
      }
      return rects
    },
    destroy() {
      host.remove()
    },
  }
}

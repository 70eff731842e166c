/**
 * Draws remote carets, selections and name labels over an editable element without touching the
 * element's own DOM (a page's scripts and the binding's diffing must never see our markup): a
 * fixed-position host appended to `document.body` holds a closed shadow root with absolutely
 * positioned boxes, and ignores the pointer. Names are set with `textContent`, colours are
 * validated upstream (remote-cursors.ts) and set through `style.setProperty`.
 */
export interface CaretBox {
  readonly clientId: number
  readonly name: string
  readonly color: string
  /** The caret, in viewport coordinates (`getBoundingClientRect`); null when not visible. */
  readonly caret: DOMRect | null
  /** Selected ranges, in viewport coordinates. */
  readonly selection: readonly DOMRect[]
}

export interface CursorOverlay {
  render(boxes: readonly CaretBox[]): void
  destroy(): void
}

const STYLE = `
  :host { all: initial; position: fixed; inset: 0; pointer-events: none; z-index: 2147483646; }
  .sel { position: fixed; opacity: 0.25; }
  .caret { position: fixed; width: 2px; }
  .label { position: fixed; font: 11px/1.4 system-ui, sans-serif; color: #fff; padding: 0 4px;
           border-radius: 3px; white-space: nowrap; transform: translateY(-100%); }
`

export const createCursorOverlay = (ownerDocument: Document = document): CursorOverlay => {
  const host = ownerDocument.createElement('coedit-cursors')
  const root = host.attachShadow({ mode: 'closed' })
  const style = ownerDocument.createElement('style')
  style.textContent = STYLE
  const layer = ownerDocument.createElement('div')
  root.append(style, layer)
  ownerDocument.body.append(host)

  const box = (className: string, rect: DOMRect, color: string) => {
    const div = ownerDocument.createElement('div')
    div.className = className
    div.style.setProperty('left', `${rect.left}px`)
    div.style.setProperty('top', `${rect.top}px`)
    div.style.setProperty('height', `${rect.height}px`)
    // Only a selection box takes the rect's width: a caret is 2 px, and a label sizes to its name
    // (given the caret's ~0 px width it would clip the name to a sliver).
    if (className === 'sel') div.style.setProperty('width', `${rect.width}px`)
    div.style.setProperty('background', color)
    return div
  }

  return {
    render(boxes) {
      const nodes: HTMLElement[] = []
      for (const { name, color, caret, selection } of boxes) {
        for (const rect of selection) nodes.push(box('sel', rect, color))
        if (caret === null) continue
        nodes.push(box('caret', caret, color))
        const label = box('label', caret, color)
        label.style.removeProperty('height')
        label.textContent = name
        nodes.push(label)
      }
      layer.replaceChildren(...nodes)
    },
    destroy() {
      host.remove()
    },
  }
}

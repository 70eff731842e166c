// @vitest-environment happy-dom
/**
 * Presence through the bridge: the local selection goes to awareness field `cursor` exactly as
 * y-quill publishes it, and remote cursors are measured by the bridge (indexes in, rectangles
 * out) and drawn by the SDK's overlay in a closed shadow root — peers' names never reach the page.
 * happy-dom has no layout, so the page editor's geometry is stubbed where drawing is checked.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  Awareness,
  applyAwarenessUpdate,
  encodeAwarenessUpdate,
  removeAwarenessStates,
} from 'y-protocols/awareness'
import * as Y from 'yjs'
import { bind, cleanUp, createPageQuill, exchange, installPage, recordTraffic } from './helpers.js'

beforeEach(() => {
  installPage()
})
afterEach(() => {
  cleanUp()
  vi.restoreAllMocks()
})

/** y-quill's encoding of a cursor at `index` in `ytext`. */
const position = (ytext: Y.Text, index: number) =>
  Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(ytext, index))

/** Two synced documents, an awareness each, a page Quill bound to the first. */
const setUp = async () => {
  const [docA, docB] = [new Y.Doc(), new Y.Doc()]
  const [awarenessA, awarenessB] = [new Awareness(docA), new Awareness(docB)]
  const ytext = docA.getText('field:a')
  const quill = createPageQuill()
  const attach = vi.spyOn(Element.prototype, 'attachShadow')
  const traffic = recordTraffic(quill.container)
  const binding = bind(ytext, quill.container, { awareness: awarenessA })
  await binding.ready
  const overlay = attach.mock.results[0]?.value as ShadowRoot | undefined
  quill.insertText(0, 'Hello world', 'user')
  exchange(docA, docB)
  /** Sends B's awareness state to A, as the network would. */
  const syncAwareness = () =>
    applyAwarenessUpdate(awarenessA, encodeAwarenessUpdate(awarenessB, [docB.clientID]), 'remote')
  return {
    docA,
    docB,
    awarenessA,
    awarenessB,
    ytext,
    quill,
    traffic,
    binding,
    overlay,
    syncAwareness,
  }
}

describe('bindPageQuill: cursors', () => {
  it('publishes the local selection in awareness field cursor as y-quill does', async () => {
    const { awarenessA, ytext, quill, docA } = await setUp()
    quill.setSelection(2, 3, 'user')
    await vi.waitFor(() => {
      expect(awarenessA.getLocalState()?.['cursor']).toEqual({
        anchor: position(ytext, 2),
        head: position(ytext, 5),
      })
    })
    // A stock y-quill peer decodes it to the same indexes.
    const cursor = awarenessA.getLocalState()?.['cursor'] as { anchor: unknown; head: unknown }
    const head = Y.createAbsolutePositionFromRelativePosition(
      Y.createRelativePositionFromJSON(cursor.head),
      docA,
    )
    expect(head?.index).toBe(5)
    expect(head?.type).toBe(ytext)

    quill.blur()
    await vi.waitFor(() => expect(awarenessA.getLocalState()?.['cursor']).toBeNull())
  })

  it('draws a remote cursor from rectangles the bridge measures, never sending its name', async () => {
    const { awarenessB, docB, quill, traffic, overlay, syncAwareness } = await setUp()
    // The page's geometry: the editor at (100, 50), 10 px per character, 18 px lines.
    const box = new DOMRect(100, 50, 600, 300)
    vi.spyOn(quill.container, 'getBoundingClientRect').mockReturnValue(box)
    vi.spyOn(quill.root, 'getBoundingClientRect').mockReturnValue(box)
    vi.spyOn(quill, 'getBounds').mockImplementation((index, length = 0) => {
      const at = typeof index === 'number' ? index : index.index
      return { left: 10 * at, top: 0, width: 10 * length, height: 18, right: 0, bottom: 18 }
    })
    const textB = docB.getText('field:a')
    awarenessB.setLocalState({
      user: { name: 'Grace', color: '#2a9d8f' },
      cursor: { anchor: position(textB, 1), head: position(textB, 4) },
    })
    syncAwareness()

    await vi.waitFor(() => expect(overlay?.querySelector('.label')?.textContent).toBe('Grace'))
    const request = traffic.find((entry) => entry.type === 'bounds-request')
    expect(request?.data?.['cursors']).toEqual([{ anchor: 1, head: 4 }])
    const caret = overlay?.querySelector<HTMLElement>('.caret')
    expect([caret?.style.left, caret?.style.top]).toEqual(['140px', '50px'])
    const selection = overlay?.querySelector<HTMLElement>('.sel')
    expect([selection?.style.left, selection?.style.width]).toEqual(['110px', '30px'])
    expect(JSON.stringify(traffic)).not.toContain('Grace')

    // The peer leaves: its cursor goes.
    removeAwarenessStates(awarenessB, [docB.clientID], 'test')
    syncAwareness()
    await vi.waitFor(() => expect(overlay?.querySelector('.label')).toBeNull())
  })

  it('moves a remote cursor along when text is typed before it', async () => {
    const { awarenessB, docB, quill, traffic, syncAwareness } = await setUp()
    const textB = docB.getText('field:a')
    awarenessB.setLocalState({
      user: { name: 'Ada', color: '#264653' },
      cursor: { anchor: position(textB, 6), head: position(textB, 6) },
    })
    syncAwareness()
    await vi.waitFor(() => expect(traffic.some((entry) => entry.type === 'bounds')).toBe(true))
    quill.insertText(0, '>> ', 'user')
    await vi.waitFor(() => {
      const requests = traffic.filter((entry) => entry.type === 'bounds-request')
      expect(requests.at(-1)?.data?.['cursors']).toEqual([{ anchor: 9, head: 9 }])
    })
  })

  it('removes the overlay and withdraws the cursor on destroy', async () => {
    const { awarenessA, quill, binding } = await setUp()
    expect(document.querySelector('coedit-cursors')).not.toBeNull()
    quill.setSelection(1, 0, 'user')
    await vi.waitFor(() => expect(awarenessA.getLocalState()?.['cursor']).not.toBeNull())
    binding.destroy()
    expect(document.querySelector('coedit-cursors')).toBeNull()
    expect(awarenessA.getLocalState()?.['cursor']).toBeNull()
  })
})

/**
 * Both worlds in one happy-dom window: the bridge is installed on `window` as the main-world
 * script would be, the page's Quill is exposed as `window.Quill` (as script-tag builds do), and
 * `bindPageQuill` talks to it through the same DOM events it uses in a browser.
 */
import Quill from 'quill'
import * as Y from 'yjs'
import { bindPageQuill, type PageQuillOptions } from '../../src/content/page-quill.js'
import {
  TO_CONTENT_EVENT,
  TO_PAGE_EVENT,
  readEnvelope,
} from '../../src/main-world/bridge-protocol.js'
import { installQuillBridge, type QuillBridge } from '../../src/main-world/install-bridge.js'

const cleanups: (() => void)[] = []

/** Undoes everything the helpers set up; call in `afterEach`. */
export const cleanUp = (): void => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
}

/** Installs the bridge and exposes `window.Quill`, until `cleanUp()`. */
export const installPage = (): QuillBridge => {
  Reflect.set(window, 'Quill', Quill)
  const bridge = installQuillBridge(window)
  cleanups.push(() => {
    bridge.destroy()
    Reflect.deleteProperty(window, 'Quill')
  })
  return bridge
}

/** A page's Quill editor whose container starts with one paragraph of `text` (if any). */
export const createPageQuill = (text = ''): Quill => {
  const container = document.createElement('div')
  if (text !== '') {
    const paragraph = document.createElement('p')
    paragraph.append(text)
    container.append(paragraph)
  }
  document.body.append(container)
  cleanups.push(() => container.remove())
  return new Quill(container, { modules: { toolbar: false } })
}

/** `bindPageQuill`, destroyed by `cleanUp()`. */
export const bind = (ytext: Y.Text, element: HTMLElement, options: PageQuillOptions = {}) => {
  const binding = bindPageQuill(ytext, element, options)
  cleanups.push(() => binding.destroy())
  return binding
}

export interface TrafficEntry {
  readonly direction: 'to-page' | 'to-content'
  readonly nonce: string | undefined
  readonly type: unknown
  readonly data: Readonly<Record<string, unknown>> | undefined
}

/** Records every bridge message dispatched on `element`, in order. */
export const recordTraffic = (element: HTMLElement): TrafficEntry[] => {
  const entries: TrafficEntry[] = []
  const record = (direction: TrafficEntry['direction']) => (event: Event) => {
    const envelope = readEnvelope((event as CustomEvent<unknown>).detail)
    entries.push({
      direction,
      nonce: envelope?.nonce,
      type: envelope?.data['type'],
      data: envelope?.data,
    })
  }
  const toPage = record('to-page')
  const toContent = record('to-content')
  element.addEventListener(TO_PAGE_EVENT, toPage)
  element.addEventListener(TO_CONTENT_EVENT, toContent)
  cleanups.push(() => {
    element.removeEventListener(TO_PAGE_EVENT, toPage)
    element.removeEventListener(TO_CONTENT_EVENT, toContent)
  })
  return entries
}

/** Dispatches a raw bridge event, as a page forging one would. */
export const forge = (element: HTMLElement, type: string, detail: unknown): void => {
  element.dispatchEvent(new CustomEvent(type, { detail }))
}

/** Exchanges both documents' missing updates (one sync round). */
export const exchange = (a: Y.Doc, b: Y.Doc): void => {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)), 'remote')
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)), 'remote')
}

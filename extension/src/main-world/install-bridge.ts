/**
 * Installs the Quill bridge in the page's main world: one capture listener on `document` for
 * `attach` events, and one attachment per element that asked. The content script injects the
 * bundle (`quill-bridge.js`) with `scripting.executeScript({ world: 'MAIN' })` each time it needs
 * it, so installing must be idempotent: the installed bridge sits on `window` under a registered
 * symbol (non-enumerable, so `for…in`/`Object.keys` over `window` on the page do not list it).
 * A bridge of another protocol version — left by the extension before an update — is replaced.
 */
import {
  ATTACH_EVENT,
  BRIDGE_VERSION,
  READY_EVENT,
  TO_CONTENT_EVENT,
  createDropReporter,
  dispatchBridgeEvent,
  encodeMessage,
  readAttach,
} from './bridge-protocol.js'
import { attachQuill, type Attachment } from './attach-quill.js'
import { findQuill, type PageWindow } from './find-quill.js'

/** Where the installed bridge is kept on `window` (shared across injections by `Symbol.for`). */
export const BRIDGE_KEY = Symbol.for('coedit.quill-bridge')

export interface QuillBridge {
  readonly version: number
  /** Detaches every attachment and removes the `attach` listener; idempotent. */
  destroy(): void
}

const isBridge = (value: unknown): value is QuillBridge =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Partial<QuillBridge>).version === 'number' &&
  typeof (value as Partial<QuillBridge>).destroy === 'function'

/** Installs the bridge on `win` unless this version already is; returns the installed one. */
export const installQuillBridge = (win: PageWindow): QuillBridge => {
  const existing: unknown = Reflect.get(win, BRIDGE_KEY)
  if (isBridge(existing)) {
    if (existing.version === BRIDGE_VERSION) return existing
    existing.destroy()
  }
  const { document } = win
  const reporter = createDropReporter('coedit quill bridge: ignored an attach request')
  const attachments = new Map<Element, Attachment>()

  const onAttach = (event: Event) => {
    // `attach` is composed so it leaves a page's open shadow root; the first entry of the path
    // is the element it was dispatched on (`target` is retargeted to the shadow host).
    const [element] = event.composedPath()
    if (!(element instanceof win.Element)) return reporter.report('not dispatched on an element')
    const nonce = readAttach((event as CustomEvent<unknown>).detail)
    if (nonce === undefined) return reporter.report('malformed detail')
    // One binding per element: a new nonce means the old binding's content script is gone
    // (extension reloaded) or superseded; the same nonce is a repeated request.
    const previous = attachments.get(element)
    if (previous?.nonce === nonce) previous.destroy()
    else previous?.replace()
    const quill = findQuill(win, element)
    if (quill === undefined) {
      const detail = encodeMessage(nonce, { type: 'error', reason: 'no-quill' })
      if (detail !== undefined) dispatchBridgeEvent(element, TO_CONTENT_EVENT, detail)
      return
    }
    // The content side answers `attached` synchronously and may detach right away (it cannot
    // read the content, say): the attachment can be gone before `attachQuill` returns.
    let gone = false
    const attachment = attachQuill(quill, element, nonce, () => {
      gone = true
      if (attachments.get(element)?.nonce === nonce) attachments.delete(element)
    })
    if (!gone) attachments.set(element, attachment)
  }

  document.addEventListener(ATTACH_EVENT, onAttach, true)
  let destroyed = false
  const bridge: QuillBridge = {
    version: BRIDGE_VERSION,
    destroy() {
      if (destroyed) return
      destroyed = true
      document.removeEventListener(ATTACH_EVENT, onAttach, true)
      for (const attachment of [...attachments.values()]) attachment.destroy()
      attachments.clear()
      if (Reflect.get(win, BRIDGE_KEY) === bridge) Reflect.deleteProperty(win, BRIDGE_KEY)
    },
  }
  Object.defineProperty(win, BRIDGE_KEY, {
    value: bridge,
    configurable: true,
    enumerable: false,
    writable: false,
  })
  // A content script that sent `attach` before this ran is waiting: tell it to ask again.
  const detail = JSON.stringify({ v: BRIDGE_VERSION })
  document.dispatchEvent(new CustomEvent(READY_EVENT, { detail }))
  return bridge
}

/**
 * Binds a shared `Y.Text` to a page's own Quill editor, from the content script. The editor's
 * instance lives in the page's main world, out of the isolated world's reach, so the work splits:
 * the main-world bridge (`main-world/`, injected as `quill-bridge.js`) only speaks Quill deltas;
 * this side owns the `Y.Text` and does what y-quill's `QuillBinding` does — Quill deltas to
 * `Y.Text` operations in one transaction with the binding as origin, `Y.Text` events to Quill
 * deltas (inserts carry every format in use, removed where absent, so text never inherits a
 * neighbour's format), the selection in awareness field `cursor` as relative-position JSON.
 *
 * Whatever arrives from the page is read through `bridge-protocol.ts` and checked against the
 * text's length before it touches the `Y.Text`: the page may forge or garble events, and what a
 * forged event can do is limited to what the page could type into its own editor. When the two
 * sides may have diverged (a malformed change, the page's Quill rejecting one), the shared text
 * wins: the editor is set to it.
 *
 * Remote cursors are drawn by the SDK's overlay (a closed shadow root): the bridge only measures
 * indexes, so peers' names and colours never reach the page (see measure-cursors.ts).
 */
import { CoeditError } from '@coedit/sdk/protocol'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import {
  createCursorOverlay,
  type CursorOverlay,
} from '../../../sdk/src/bindings/cursor-overlay.js'
import {
  createCursorPublisher,
  readRemoteCursors,
  type CursorPublisher,
  type RemoteCursor,
} from '../../../sdk/src/bindings/remote-cursors.js'
import { seedFieldName, seedText } from '../../../sdk/src/bindings/seed.js'
import {
  ATTACH_EVENT,
  BRIDGE_VERSION,
  MAX_CURSORS,
  READY_EVENT,
  TO_CONTENT_EVENT,
  TO_PAGE_EVENT,
  createDropReporter,
  dispatchBridgeEvent,
  encodeMessage,
  isAttributeKey,
  isEmbed,
  isJsonValue,
  readEnvelope,
  readToContent,
  type Attributes,
  type CursorBounds,
  type Delta,
  type DeltaOp,
  type Embed,
  type Rect,
  type ToContent,
  type ToPage,
} from '../main-world/bridge-protocol.js'

export interface PageQuillOptions {
  /** Publishes this user's selection (field `cursor`) and draws remote cursors. */
  readonly awareness?: Awareness
  /** `ytext`'s top-level name in its document (`doc.getText(field)`). Default: looked up. */
  readonly field?: string
  /**
   * Seed `ytext` from the editor's content when `ytext` is empty once attached. Default true.
   * Pass false until the replica has synced with the room, or a joiner's page content is merged.
   */
  readonly seed?: boolean
  /** How long to wait for the bridge's answer, in ms. Default 5000. */
  readonly timeoutMs?: number
  /**
   * Called once if the binding fails or stops by itself (never for `destroy()`): with `ready`'s
   * rejection, or after `ready` when another binding took the editor (`quill-detached`) or the
   * editor cannot follow the shared text (`quill-desync`).
   */
  readonly onError?: (error: CoeditError) => void
}

export interface PageQuillBinding {
  /**
   * Settles once the bridge answered: resolves when the editor and `ytext` are in sync and bound;
   * rejects with `CoeditError` `quill-not-found` (no Quill instance reachable on the element, or
   * no bridge answered within `timeoutMs`), `quill-bridge-failed` (the editor's content could not
   * be read), or `destroyed` (`destroy()` was called first). With the bridge installed it is
   * settled before `bindPageQuill` returns (DOM events are dispatched synchronously, across
   * worlds too), so a seed is written by then. Not awaiting it is safe: a rejection is never
   * reported as unhandled (failures also go to `onError`).
   */
  readonly ready: Promise<void>
  /** Detaches both sides and removes every listener; idempotent. */
  destroy(): void
}

/** The transaction origin of seeds written by this binding (not the binding: never undone). */
export const PAGE_QUILL_SEED_ORIGIN = Symbol('coedit.bindPageQuill.seed')

/** Stands in for an embed Quill could not take (a nested Yjs type): same length, so indexes hold. */
const OBJECT_REPLACEMENT = '\uFFFC'
const DEFAULT_TIMEOUT_MS = 5000

type YDeltaOp = {
  insert?: unknown
  retain?: number
  delete?: number
  attributes?: Record<string, unknown>
}

/**
 * Binds `ytext` to the page's Quill on `element` (its container or its `.ql-editor`). The bridge
 * script must be injected into the page's main world (before or after this call: it announces
 * itself and the request is repeated). Returns at once; see `ready`. Throws at once on misuse.
 */
export const bindPageQuill = (
  ytext: Y.Text,
  element: HTMLElement,
  options: PageQuillOptions = {},
): PageQuillBinding => {
  const doc = ytext.doc
  if (doc === null) {
    throw new CoeditError('misuse', 'bindPageQuill: ytext must belong to a Y.Doc (doc.getText)')
  }
  const seed = options.seed !== false
  const field = seed ? seedFieldName(ytext, options.field, 'bindPageQuill') : undefined
  const { awareness } = options
  const view = element.ownerDocument.defaultView ?? window
  const nonce = randomNonce()
  const reporter = createDropReporter('coedit: dropped a message from the page’s Quill bridge')
  /** This binding's transaction origin: its own `Y.Text` events are not sent back. */
  const origin = { binding: 'bindPageQuill', nonce }
  const cleanups: (() => void)[] = []
  /** Every format name seen; sent as `null` on inserts (y-quill's `_negatedUsedFormats`). */
  const formats = new Set<string>()
  let state: 'attaching' | 'attached' | 'stopped' = 'attaching'
  /** Whether `ready` resolved: later errors go to `onError`. */
  let bound = false
  let healing = false
  let publisher: CursorPublisher | undefined
  let overlay: CursorOverlay | undefined
  let frame: number | undefined
  let requestId = 0
  let measuring: readonly RemoteCursor[] = []

  let settle: { resolve: () => void; reject: (error: CoeditError) => void } | undefined
  const ready = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject }
  })
  // Callers that only keep the handle (and learn of failures through `onError`) must not get an
  // unhandled rejection; whoever awaits `ready` still sees it reject.
  ready.catch(() => undefined)
  const listen = (target: EventTarget, type: string, listener: EventListener, capture = false) => {
    target.addEventListener(type, listener, capture)
    cleanups.push(() => target.removeEventListener(type, listener, capture))
  }

  const send = (message: ToPage) => {
    const detail = encodeMessage(nonce, message)
    if (detail !== undefined) return dispatchBridgeEvent(element, TO_PAGE_EVENT, detail)
    reporter.report(`could not send ${message.type} (too large)`)
    // The editor would silently miss this change; better to stop than to diverge.
    if (message.type === 'apply' || message.type === 'set') {
      stop(new CoeditError('quill-desync', 'a change too large for the page’s Quill bridge'), true)
    }
  }
  const sendAttach = () => {
    const detail = encodeMessage(nonce, { v: BRIDGE_VERSION })
    if (detail !== undefined) dispatchBridgeEvent(element, ATTACH_EVENT, detail, true)
  }

  /** Ends the binding. `error` (none for `destroy()`) goes to `onError`, and rejects `ready` if pending. */
  const stop = (error: CoeditError | undefined, tellBridge: boolean) => {
    if (state === 'stopped') return
    state = 'stopped'
    clearTimeout(timer)
    if (frame !== undefined) view.cancelAnimationFrame(frame)
    for (const cleanup of cleanups.splice(0).reverse()) cleanup()
    publisher?.destroy()
    overlay?.destroy()
    if (tellBridge) send({ type: 'detach' })
    if (!bound) {
      settle?.reject(error ?? new CoeditError('destroyed', 'bindPageQuill: destroyed before ready'))
    }
    if (error !== undefined) options.onError?.(error)
  }

  /** Sets the editor to the shared text; gives up if the editor cannot take even that. */
  const sendShared = () => {
    if (healing) {
      const message = 'the page’s Quill cannot show the shared text; stopped editing together'
      console.error(`coedit: ${message}`)
      stop(new CoeditError('quill-desync', message), true)
      return
    }
    healing = true
    try {
      send({ type: 'set', delta: sharedDocument(ytext) })
    } finally {
      healing = false
    }
  }

  const onAttached = (page: Delta) => {
    clearTimeout(timer)
    noteFormats(formats, page)
    if (field !== undefined && ytext.length === 0) seedFromPage(ytext, field, page)
    const shared = sharedDocument(ytext)
    state = 'attached'
    // Joining (or a page that differs from the seed): the shared text is what everyone edits.
    if (canonical(pageDocument(page)) !== canonical(shared)) sendShared()
    if (state !== 'attached') return
    ytext.observe(onText)
    cleanups.push(() => ytext.unobserve(onText))
    if (awareness !== undefined) startCursors(awareness)
    bound = true
    settle?.resolve()
  }

  const onText = (event: Y.YTextEvent) => {
    if (event.transaction.origin === origin) return
    const delta = toBridgeDelta(event.delta as YDeltaOp[], formats)
    if (delta.length > 0) send({ type: 'apply', delta })
    scheduleCursors()
  }

  const onPageDelta = (delta: Delta) => {
    if (!fitsText(delta, ytext.length)) {
      reporter.report('a change beyond the end of the text')
      sendShared()
      return
    }
    noteFormats(formats, delta)
    doc.transact(() => ytext.applyDelta(delta.map((op) => ({ ...op }))), origin)
    scheduleCursors()
  }

  const onMessage = (event: Event) => {
    if (event.target !== element) return
    const envelope = readEnvelope((event as CustomEvent<unknown>).detail)
    if (envelope === undefined) return reporter.report('malformed detail')
    if (envelope.nonce !== nonce) return
    const message = readToContent(envelope.data)
    if (message === undefined) {
      reporter.report('malformed message')
      if (state === 'attached') sendShared()
      else if (envelope.data['type'] === 'attached') {
        // The editor's content cannot be read (an embed the protocol does not carry, say).
        const error = 'bindPageQuill: the page’s Quill content cannot be read'
        stop(new CoeditError('quill-bridge-failed', error), true)
      }
      return
    }
    handle(message)
  }

  const handle = (message: ToContent) => {
    if (state === 'attaching') {
      if (message.type === 'attached') onAttached(message.delta)
      else if (message.type === 'error') {
        const code = message.reason === 'no-quill' ? 'quill-not-found' : 'quill-bridge-failed'
        stop(new CoeditError(code, `bindPageQuill: ${ATTACH_FAILURES[message.reason]}`), false)
      }
      return
    }
    switch (message.type) {
      case 'delta':
        return onPageDelta(message.delta)
      case 'selection':
        if (message.range === null) publisher?.clear()
        else publisher?.publish(message.range.index, message.range.index + message.range.length)
        return
      case 'bounds':
        return drawCursors(message.id, message.cursors)
      case 'desync':
        reporter.report(`the page’s Quill reported a desync (${message.reason})`)
        return sendShared()
      case 'detached':
        return stop(
          new CoeditError('quill-detached', 'another binding took over the page’s Quill'),
          false,
        )
      case 'attached':
      case 'error':
        return reporter.report(`unexpected ${message.type}`)
    }
  }

  const startCursors = (states: Awareness) => {
    publisher = createCursorPublisher(states, ytext)
    overlay = createCursorOverlay(element.ownerDocument)
    const onChange = () => scheduleCursors()
    states.on('change', onChange)
    cleanups.push(() => states.off('change', onChange))
    // Overlay boxes are fixed to the viewport: any scroll (the page's or the editor's) moves them.
    listen(view, 'scroll', onChange, true)
    listen(view, 'resize', onChange)
    scheduleCursors()
  }
  const scheduleCursors = () => {
    if (awareness === undefined || state !== 'attached' || frame !== undefined) return
    frame = view.requestAnimationFrame(requestBounds)
  }
  const requestBounds = () => {
    frame = undefined
    if (awareness === undefined || state !== 'attached') return
    measuring = readRemoteCursors(awareness, ytext).slice(0, MAX_CURSORS)
    requestId += 1
    if (measuring.length === 0) return overlay?.render([])
    const cursors = measuring.map(({ anchor, head }) => ({ anchor, head }))
    send({ type: 'bounds-request', id: requestId, cursors })
  }
  const drawCursors = (id: number, bounds: readonly CursorBounds[]) => {
    if (id !== requestId || bounds.length !== measuring.length) return
    overlay?.render(
      measuring.map(({ clientId, name, color }, index) => {
        const caret = bounds[index]?.caret ?? null
        const selection = bounds[index]?.selection ?? []
        return {
          clientId,
          name,
          color,
          caret: caret === null ? null : toDomRect(caret),
          selection: selection.map(toDomRect),
        }
      }),
    )
  }

  listen(element, TO_CONTENT_EVENT, onMessage)
  // The bridge announces itself when installed: a request sent before that went unheard.
  listen(element.ownerDocument, READY_EVENT, () => {
    if (state === 'attaching') sendAttach()
  })
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  // Declared last but only read by `stop`, which nothing can call before this line has run.
  const timer = setTimeout(() => {
    const message = `bindPageQuill: no answer from the page’s Quill bridge within ${timeoutMs} ms`
    stop(new CoeditError('quill-not-found', message), true)
  }, timeoutMs)
  sendAttach()

  return {
    ready,
    destroy() {
      stop(undefined, true)
    },
  }
}

const ATTACH_FAILURES = {
  'no-quill': 'no Quill instance is reachable on this element (the page does not expose Quill)',
  'too-large': 'the editor’s content is too large to bind',
  failed: 'the page’s Quill bridge failed',
} as const

/** 128 random bits, base64url: tells this binding's events from any other's. */
const randomNonce = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

const noteFormats = (formats: Set<string>, delta: Delta) => {
  for (const op of delta) {
    if ('attributes' in op && op.attributes !== undefined) {
      for (const key of Object.keys(op.attributes)) formats.add(key)
    }
  }
}

/** Attributes the protocol carries; others (from a misbehaving peer) are not shown. */
const bridgeAttributes = (attributes: Record<string, unknown> | undefined): Attributes => {
  if (attributes === undefined) return {}
  return Object.fromEntries(
    Object.entries(attributes).filter(
      ([key, value]) => isAttributeKey(key) && isJsonValue(value, 1),
    ),
  ) as Attributes
}

/** An embed as the protocol carries it, or the replacement character (same length). */
const bridgeInsert = (insert: unknown): string | Embed => {
  if (typeof insert === 'string') return insert
  return isEmbed(insert) ? insert : OBJECT_REPLACEMENT
}

/**
 * A `Y.Text` event's delta for the editor. Inserts name every format in use — absent ones as
 * `null` — because Quill 1 would otherwise extend a neighbour's format over them (y-quill).
 */
const toBridgeDelta = (delta: readonly YDeltaOp[], formats: Set<string>): DeltaOp[] => {
  const ops: DeltaOp[] = []
  for (const op of delta) {
    const attributes = bridgeAttributes(op.attributes)
    if (op.insert !== undefined) {
      for (const key of Object.keys(attributes)) formats.add(key)
      const negated = Object.fromEntries([...formats].map((key) => [key, null]))
      const all = { ...negated, ...attributes }
      const insert = bridgeInsert(op.insert)
      ops.push(Object.keys(all).length > 0 ? { insert, attributes: all } : { insert })
    } else if (op.retain !== undefined) {
      ops.push(
        Object.keys(attributes).length > 0
          ? { retain: op.retain, attributes }
          : { retain: op.retain },
      )
    } else if (op.delete !== undefined) {
      ops.push({ delete: op.delete })
    }
  }
  return ops
}

/** `ytext` as a document delta the protocol carries. */
const sharedDocument = (ytext: Y.Text): DeltaOp[] =>
  (ytext.toDelta() as YDeltaOp[]).map((op) => {
    const attributes = bridgeAttributes(op.attributes)
    const insert = bridgeInsert(op.insert)
    return Object.keys(attributes).length > 0 ? { insert, attributes } : { insert }
  })

/**
 * The editor's content in y-quill's model: Quill's final newline is implicit in `Y.Text` unless it
 * carries a line format (the same normalisation as the SDK's `bindQuill` seed, so seeds match).
 */
const pageDocument = (page: Delta): DeltaOp[] => {
  const content = page.filter((op) => 'insert' in op)
  const last = content.at(-1)
  if (
    last !== undefined &&
    'insert' in last &&
    last.attributes === undefined &&
    typeof last.insert === 'string'
  ) {
    const insert = last.insert.replace(/\n$/, '')
    if (insert.length > 0) content[content.length - 1] = { insert }
    else content.pop()
  }
  return content
}

/** Writes the editor's content as the deterministic seed (see sdk/src/bindings/seed.ts). */
const seedFromPage = (ytext: Y.Text, field: string, page: Delta) => {
  const content = pageDocument(page)
  if (content.length === 0) return
  // Embeds go through too: Y.Text applies them and the seed hash covers their JSON.
  seedText(ytext, field, content as Parameters<typeof seedText>[2], PAGE_QUILL_SEED_ORIGIN)
}

/** Key-order-independent JSON, to compare two documents. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  )

/**
 * Whether `delta` stays within the text. One past the end is Quill's final newline, which a line
 * format may retain; further would make `Y.Text` pad the text with newlines.
 */
const fitsText = (delta: Delta, length: number): boolean => {
  let consumed = 0
  for (const op of delta) {
    if ('retain' in op) consumed += op.retain
    else if ('delete' in op) consumed += op.delete
  }
  return consumed <= length + 1
}

const toDomRect = (rect: Rect): DOMRect => new DOMRect(rect.left, rect.top, rect.width, rect.height)

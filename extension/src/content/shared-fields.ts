/**
 * Keeps this page's fields bound to the shared document. The list of shared fields lives in the
 * document itself — `coedit:fields`, field id → FieldDescriptor — so a joiner learns which fields
 * are shared and a field picked later appears everywhere. Each entry is resolved against this
 * copy of the page (field-identity.ts) and bound to `doc.getText('field:' + id)` with the SDK's
 * bindings: textarea/input → `bindTextField`, contenteditable → `bindContentEditable`, Quill →
 * the page's own editor through the main-world bridge (`bindQuill`, injected on first use).
 *
 * Seeding rules, so that nobody's page text is written over the shared text or doubled:
 * - nothing is bound before the replica has the host's state (`replica.synced`): a joiner's
 *   binding then finds the shared text non-empty and shows it instead of seeding its own copy;
 * - a picked field is bound (which seeds the text from the page, deterministically: seed.ts)
 *   *before* its entry is added to the map, in separate transactions posted in that order, so
 *   every other replica receives the text no later than the entry that makes it bind.
 *
 * Entries are re-resolved when the page's DOM changes: a field not found yet may appear later
 * (single-page apps), and a bound element that left the DOM is unbound and looked for again.
 */
import { bindContentEditable, bindTextField, CoeditError } from '@coedit/sdk'
import { createEmitter } from '../../../sdk/src/events.js'
import { toBase64 } from '../shared/messages.js'
import type { EditableField } from './editable-fields.js'
import {
  describeField,
  fieldTitle,
  readFieldDescriptor,
  resolveField,
  type FieldDescriptor,
} from './field-identity.js'
import type { bindPageQuill } from './page-quill.js'
import type { Replica } from './replica.js'

/** The shared map of field id → FieldDescriptor. */
export const FIELDS_MAP = 'coedit:fields'
/** Prefix of a field's shared text: `doc.getText(FIELD_TEXT_PREFIX + id)`. */
export const FIELD_TEXT_PREFIX = 'field:'

/** `bindPageQuill` (page-quill.ts), passed in: tests use a fake instead of a main-world bridge. */
export type BindPageQuill = typeof bindPageQuill

export interface SharedFieldsOptions {
  readonly replica: Pick<Replica, 'doc' | 'awareness' | 'synced' | 'on'>
  readonly document: Document
  /** Asks the background to inject the main-world Quill bridge; called at most once. */
  readonly injectQuillBridge: () => Promise<void>
  readonly bindQuill: BindPageQuill
  /** Reports unreadable map entries once each (default `console.warn`). */
  readonly warn?: (message: string) => void
}

export interface SharedFieldsEvents {
  /** The messages about fields that could not be bound here changed. */
  problems: { readonly problems: readonly string[] }
}

export interface SharedFields {
  /**
   * Shares a picked field: binds it (seeding the shared text from the page) and adds it to the
   * map; resolves with its field id (the existing one if the element is already shared). Waits
   * for the replica to be synced. Rejects with `CoeditError('destroyed')` if destroyed meanwhile.
   */
  share(field: EditableField): Promise<string>
  /** Whether `element` is bound to a shared field. */
  isShared(element: HTMLElement): boolean
  /** Messages about shared fields that could not be bound here, in map order. */
  problems(): readonly string[]
  on<K extends keyof SharedFieldsEvents>(
    event: K,
    listener: (payload: SharedFieldsEvents[K]) => void,
  ): () => void
  /** Destroys every binding and stops watching; the page's DOM stays as it is. Idempotent. */
  destroy(): void
}

/** Ids others write into the map; anything else is not a field of ours. */
const FIELD_ID = /^[A-Za-z0-9_-]{1,64}$/

/** 8 random base64url characters (48 bits). */
export const randomFieldId = (): string =>
  toBase64(crypto.getRandomValues(new Uint8Array(6)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')

interface Bound {
  readonly element: HTMLElement
  /** The descriptor's JSON: a changed entry is resolved again. */
  readonly key: string
  /** Settles when the binding is live (a Quill binding waits for the page's editor). */
  readonly ready: Promise<void>
  readonly destroy: () => void
}

type BridgeState = 'idle' | 'loading' | 'ready' | { readonly failed: string }

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error))

export const createSharedFields = (options: SharedFieldsOptions): SharedFields => {
  const { replica, document: page } = options
  const warn = options.warn ?? ((message: string) => console.warn(message))
  const doc = replica.doc
  const fields = doc.getMap<unknown>(FIELDS_MAP)
  const events = createEmitter<SharedFieldsEvents>()
  const bound = new Map<string, Bound>()
  /** Fields whose binding failed on this element: not retried until the page changes it. */
  const failed = new Map<string, HTMLElement>()
  /** Picked fields bound but not in the map yet (a Quill binding is waiting for `ready`). */
  const sharing = new Set<string>()
  const problems = new Map<string, string>()
  const warned = new Set<string>()
  let shownProblems = '[]'
  let bridge: BridgeState = 'idle'
  let bridgeReady: Promise<void> | undefined
  let scheduled = false
  let destroyed = false
  const waiting = new Set<{ resolve: () => void; reject: (error: Error) => void }>()

  const bindElement = (id: string, descriptor: FieldDescriptor, element: HTMLElement): Bound => {
    const name = FIELD_TEXT_PREFIX + id
    const ytext = doc.getText(name)
    // `field` names the root type the deterministic seed is written into: the Y.Text's own name.
    const bindOptions = { awareness: replica.awareness, field: name }
    const key = JSON.stringify(descriptor)
    switch (descriptor.kind) {
      case 'text-field': {
        const binding = bindTextField(
          ytext,
          element as HTMLTextAreaElement | HTMLInputElement,
          bindOptions,
        )
        return { element, key, ready: Promise.resolve(), destroy: () => binding.destroy() }
      }
      case 'content-editable': {
        const binding = bindContentEditable(ytext, element, bindOptions)
        return { element, key, ready: Promise.resolve(), destroy: () => binding.destroy() }
      }
      case 'quill': {
        const binding = options.bindQuill(ytext, element, {
          ...bindOptions,
          onError: (error) => quillFailed(id, descriptor, element, error),
        })
        const ready = binding.ready.catch((error: unknown) => {
          quillFailed(id, descriptor, element, error)
          throw error
        })
        // Map-driven bindings report through `problems`; only `share` awaits `ready`.
        ready.catch(() => undefined)
        return { element, key, ready, destroy: () => binding.destroy() }
      }
    }
  }

  /**
   * A Quill binding that failed or stopped by itself (no editor on the element, the bridge did
   * not answer, another binding took the editor): reported, and not retried on the same element.
   */
  function quillFailed(
    id: string,
    descriptor: FieldDescriptor,
    element: HTMLElement,
    error: unknown,
  ) {
    if (destroyed || bound.get(id)?.element !== element) return
    unbind(id)
    failed.set(id, element)
    problems.set(id, `Could not share ${fieldTitle(descriptor)}: ${errorText(error)}`)
    publishProblems()
  }

  const unbind = (id: string) => {
    const binding = bound.get(id)
    if (binding === undefined) return
    bound.delete(id)
    binding.destroy()
  }

  /** Starts loading the Quill bridge; resolves once the page's Quill can be reached. */
  const loadBridge = (): Promise<void> => {
    if (bridgeReady !== undefined) return bridgeReady
    bridge = 'loading'
    bridgeReady = options.injectQuillBridge().then(
      () => {
        bridge = 'ready'
        schedule()
      },
      (error: unknown) => {
        bridge = { failed: errorText(error) }
        schedule()
        throw error
      },
    )
    // Map-driven loads report through `problems`; only `share` awaits the promise.
    bridgeReady.catch(() => undefined)
    return bridgeReady
  }

  const publishProblems = () => {
    const list = Array.from(problems.values())
    const json = JSON.stringify(list)
    if (json === shownProblems) return
    shownProblems = json
    events.emit('problems', { problems: list })
  }

  /** Brings the bindings in line with the map and the page. */
  const refresh = () => {
    scheduled = false
    if (destroyed || !replica.synced) return
    const claimed = new Map<HTMLElement, string>()
    for (const [id, binding] of bound) claimed.set(binding.element, id)
    const present = new Set<string>()
    fields.forEach((value, id) => {
      present.add(id)
      const descriptor = FIELD_ID.test(id) ? readFieldDescriptor(value) : undefined
      if (descriptor === undefined) {
        if (!warned.has(id)) {
          warned.add(id)
          warn(`coedit: ignoring shared field "${id.slice(0, 64)}": its description is not valid`)
        }
        problems.set(id, 'A shared field could not be read (shared by a different Coedit version?)')
        return
      }
      const key = JSON.stringify(descriptor)
      const current = bound.get(id)
      if (current !== undefined && current.key === key && current.element.isConnected) return
      if (current !== undefined) {
        claimed.delete(current.element)
        unbind(id)
      }
      const resolution = resolveField(page, descriptor)
      if ('error' in resolution) {
        problems.set(id, resolution.error)
        return
      }
      if (failed.get(id) === resolution.element) return
      failed.delete(id)
      const other = claimed.get(resolution.element)
      if (other !== undefined) {
        problems.set(id, `Could not share ${fieldTitle(descriptor)}: it is already shared here`)
        return
      }
      if (descriptor.kind === 'quill' && bridge !== 'ready') {
        if (bridge === 'idle') void loadBridge()
        if (typeof bridge === 'object') {
          problems.set(id, `Could not reach ${fieldTitle(descriptor)}: ${bridge.failed}`)
        }
        return
      }
      try {
        bound.set(id, bindElement(id, descriptor, resolution.element))
        claimed.set(resolution.element, id)
        problems.delete(id)
      } catch (error) {
        problems.set(id, `Could not share ${fieldTitle(descriptor)}: ${errorText(error)}`)
      }
    })
    for (const id of Array.from(bound.keys())) {
      if (!present.has(id) && !sharing.has(id)) unbind(id)
    }
    for (const id of Array.from(failed.keys())) if (!present.has(id)) failed.delete(id)
    for (const id of Array.from(problems.keys())) if (!present.has(id)) problems.delete(id)
    publishProblems()
  }

  function schedule() {
    if (scheduled || destroyed) return
    scheduled = true
    // Not inside a Yjs observer or a MutationObserver batch: bindings seed in transactions.
    queueMicrotask(refresh)
  }

  const needsLook = () => {
    if (problems.size > failed.size) return true
    for (const binding of bound.values()) if (!binding.element.isConnected) return true
    return false
  }
  // The page's own constructor: the page's DOM is observed from its window.
  const View = page.defaultView?.MutationObserver ?? MutationObserver
  const observer = new View(() => {
    if (needsLook()) schedule()
  })
  observer.observe(page.documentElement, { childList: true, subtree: true })
  fields.observe(schedule)
  const offSynced = replica.on('synced', () => {
    for (const waiter of waiting) waiter.resolve()
    waiting.clear()
    schedule()
  })
  schedule()

  const whenSynced = () =>
    replica.synced
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => waiting.add({ resolve, reject }))

  const idOf = (element: HTMLElement): string | undefined => {
    for (const [id, binding] of bound) if (binding.element === element) return id
    return undefined
  }

  const gone = () =>
    new CoeditError('destroyed', 'the shared fields were destroyed (sharing stopped)')

  return {
    async share(field) {
      await whenSynced()
      if (field.kind === 'quill') await loadBridge()
      if (destroyed) throw gone()
      const existing = idOf(field.element)
      if (existing !== undefined) return existing
      const descriptor = describeField(field.element)
      let id = randomFieldId()
      while (fields.has(id)) id = randomFieldId()
      // Bound first: the seed is posted before the entry (see the module comment).
      const binding = bindElement(id, descriptor, field.element)
      bound.set(id, binding)
      sharing.add(id)
      try {
        await binding.ready
      } finally {
        sharing.delete(id)
      }
      if (destroyed) throw gone()
      fields.set(id, descriptor)
      return id
    },
    isShared: (element) => idOf(element) !== undefined,
    problems: () => Array.from(problems.values()),
    on: (event, listener) => events.on(event, listener),
    destroy() {
      if (destroyed) return
      destroyed = true
      observer.disconnect()
      fields.unobserve(schedule)
      offSynced()
      for (const waiter of waiting) waiter.reject(gone())
      waiting.clear()
      for (const id of Array.from(bound.keys())) unbind(id)
      problems.clear()
      events.clear()
    },
  }
}

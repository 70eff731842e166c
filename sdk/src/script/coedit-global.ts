/**
 * The `window.Coedit` object of the script bundle: `start`, shortcuts to the current instance
 * (the last one started and not yet destroyed), and the npm package's main exports for pages
 * that want more than the script tag does. It holds no session itself, only which one is current.
 */
import { bindContentEditable } from '../bindings/content-editable.js'
import { bindQuill } from '../bindings/quill.js'
import { bindTextField } from '../bindings/text-field.js'
import type { Listener } from '../events.js'
import { CoeditError } from '../protocol/errors.js'
import { createSession, type SessionEvents } from '../session.js'
import type { Binding } from './field-bindings.js'
import { startCoedit, type CoeditInstance } from './start.js'
import type { StartOptions } from './start-options.js'

export interface CoeditGlobal {
  /** The bundle's version (the `@coedit/sdk` package version it was built from). */
  readonly version: string
  /** The current instance: the last started and not destroyed. */
  readonly instance: CoeditInstance | undefined
  /** Starts a session on this page; `document` then gets a `coedit:ready` event. */
  start(options: StartOptions): CoeditInstance
  /** `instance.bind`; throws `CoeditError` code `not-started` when nothing was started. */
  bind(element: HTMLElement, fieldId: string): Binding
  /** `instance.on`; throws `CoeditError` code `not-started` when nothing was started. */
  on<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): () => void
  readonly createSession: typeof createSession
  readonly bindTextField: typeof bindTextField
  readonly bindQuill: typeof bindQuill
  readonly bindContentEditable: typeof bindContentEditable
  readonly CoeditError: typeof CoeditError
}

/** The event `document` receives when an instance has started; `detail` is the instance. */
export const READY_EVENT = 'coedit:ready'

export const createCoeditGlobal = (page: Document, version: string): CoeditGlobal => {
  let current: CoeditInstance | undefined
  const currentInstance = (call: string): CoeditInstance => {
    if (current !== undefined) return current
    throw new CoeditError(
      'not-started',
      `Coedit.${call}: nothing is started; call Coedit.start({ server, room }) first or give ` +
        'the script tag a data-room',
    )
  }
  return {
    version,
    get instance() {
      return current
    },
    start(options) {
      const instance: CoeditInstance = startCoedit(options, {
        document: page,
        onDestroy: () => {
          if (current === instance) current = undefined
        },
      })
      current = instance
      // After `current` is set, so ready listeners can use Coedit.bind and Coedit.on.
      const view = page.defaultView
      const ReadyEvent = view?.CustomEvent ?? CustomEvent
      page.dispatchEvent(new ReadyEvent(READY_EVENT, { detail: instance }))
      return instance
    },
    bind: (element, fieldId) => currentInstance('bind').bind(element, fieldId),
    on: (event, listener) => currentInstance('on').on(event, listener),
    createSession,
    bindTextField,
    bindQuill,
    bindContentEditable,
    CoeditError,
  }
}

/**
 * One run of the content script in a tab: wires the replica to the background's `coedit-doc`
 * port, the shared fields to the replica, the presence panel to both, and the picker to the
 * popup's "pick a field" request. Owns the order of teardown.
 *
 * The run stops — bindings, picker and replica destroyed, the page's DOM left exactly as it is,
 * the panel kept to say why — when:
 * - the host ends the share (`ended`);
 * - the extension is reloaded or updated under the page (the port disconnects with "Extension
 *   context invalidated", or `runtime.id` is gone): nothing of the extension can be reached any
 *   more, so the user is asked to reload the page;
 * - the port disconnects before the host ever answered (this tab has no share).
 * A port that disconnects after a sync (Chrome stopped the idle service worker) is replaced by a
 * new one on the same replica: the hello/sync exchange brings both sides up to date, and edits
 * made meanwhile are not lost — unless the new host turns out to hold another document (replica
 * `mismatch`), when the run stops rather than mix two shares.
 */
import { DOC_PORT } from '../shared/messages.js'
import {
  INJECT_QUILL_BRIDGE,
  readPickMessage,
  type ContentRequest,
  type ContentResponse,
} from '../shared/requests.js'
import { createPicker, type Picker } from './picker.js'
import { createPresencePanel, type PresencePanel } from './presence-panel.js'
import { createReplica, type Replica } from './replica.js'
import { isInvalidation, type ContentRuntime, type PortLike } from './runtime.js'
import { createSharedFields, type BindPageQuill, type SharedFields } from './shared-fields.js'

/** Shown when the extension went away under the page. */
export const INVALIDATED_NOTICE =
  'Coedit was updated or reloaded — reload this page to keep editing together'
/** Shown when the background would not connect this tab to a share. */
export const NOT_SHARED_NOTICE =
  'Coedit is not sharing this tab any more — share or join again from the Coedit button'

/** Shown when a reconnected port leads to another share's document. */
export const LOST_NOTICE =
  'Coedit lost track of this share — reload this page to keep editing together'

export interface ContentOptions {
  readonly runtime: ContentRuntime
  readonly document: Document
  /** helper F's `bindPageQuill`. */
  readonly bindQuill: BindPageQuill
  /** Default `console.warn`. */
  readonly warn?: (message: string) => void
  /**
   * How often to check that the extension is still there, in ms. Default 2000. Chromium does not
   * always disconnect an orphaned content script's port when the extension is reloaded or
   * updated (seen with Chromium 156); `runtime.id` going away is the signal that always comes.
   */
  readonly livenessIntervalMs?: number
}

/** What the background gets back for `coedit:pick` (once the run stops, nobody answers). */
export type PickAnswer = Extract<ContentResponse, { ok: true }>

export interface ContentApp {
  /** False once the run stopped (a new injection may then start a fresh one). */
  readonly active: boolean
  readonly replica: Replica
  readonly fields: SharedFields
  readonly panel: PresencePanel
  /** Shows the picker and shares the chosen field; resolves with its id, or undefined. */
  pick(): Promise<string | undefined>
  /** Stops the run and removes the panel (a new injection replaces this run). Idempotent. */
  destroy(): void
}

const endedNotice = (reason: string) =>
  reason.trim() === ''
    ? 'Sharing stopped on this page'
    : `Sharing stopped on this page: ${reason.trim().slice(0, 200)}`

export const startContent = (options: ContentOptions): ContentApp => {
  const { runtime, document: page } = options
  const warn = options.warn ?? ((message: string) => console.warn(message))
  const replica = createReplica({ warn, disconnectError: (port) => runtime.disconnectError(port) })
  const panel = createPresencePanel(page)
  const fields = createSharedFields({
    replica,
    document: page,
    bindQuill: options.bindQuill,
    warn,
    async injectQuillBridge() {
      const request: ContentRequest = { type: INJECT_QUILL_BRIDGE }
      const answer: unknown = await runtime.sendMessage(request)
      if (
        typeof answer === 'object' &&
        answer !== null &&
        (answer as { ok?: unknown }).ok === true
      ) {
        return
      }
      const error = (answer as { error?: unknown } | undefined)?.error
      throw new Error(
        typeof error === 'string' ? error : 'the extension did not load its Quill bridge',
      )
    },
  })
  let picker: Picker | undefined
  let active = true
  /** Whether the current port completed a sync (a drop is then worth one reconnect). */
  let portSynced = false

  const liveness = setInterval(() => {
    if (!runtime.isValid()) stop(INVALIDATED_NOTICE)
  }, options.livenessIntervalMs ?? 2000)

  const stop = (notice: string | undefined) => {
    if (!active) return
    active = false
    clearInterval(liveness)
    try {
      offMessage()
    } catch (error) {
      // An orphaned content script cannot even remove its listener (Chrome throws "Extension
      // context invalidated"); the listener is dead anyway. The rest of the teardown must run.
      if (!isInvalidation(runtime, String(error))) warn(`coedit: ${String(error)}`)
    }
    picker?.cancel()
    fields.destroy()
    replica.destroy()
    if (notice === undefined) panel.destroy()
    else panel.showNotice(notice)
  }

  const connect = () => {
    let port: PortLike
    try {
      port = runtime.connect(DOC_PORT)
    } catch (error) {
      stop(isInvalidation(runtime, String(error)) ? INVALIDATED_NOTICE : NOT_SHARED_NOTICE)
      return
    }
    portSynced = false
    replica.connect(port)
  }

  const offs = [
    replica.on('status', (status) => panel.setStatus(status)),
    replica.on('synced', () => {
      portSynced = true
    }),
    replica.on('ended', ({ reason }) => stop(endedNotice(reason))),
    replica.on('mismatch', () => stop(LOST_NOTICE)),
    replica.on('disconnect', ({ error }) => {
      if (!active) return
      if (isInvalidation(runtime, error)) stop(INVALIDATED_NOTICE)
      else if (portSynced) connect()
      else stop(NOT_SHARED_NOTICE)
    }),
    fields.on('problems', ({ problems }) => panel.setProblems(problems)),
  ]

  const pick = async (): Promise<string | undefined> => {
    if (!active) return undefined
    // One picker at a time: a second request while it is open is the same pick.
    picker ??= createPicker(page, { skip: (element) => fields.isShared(element) })
    const current = picker
    const field = await current.chosen
    if (picker === current) picker = undefined
    if (field === undefined || !active) return undefined
    return fields.share(field)
  }

  const offMessage = runtime.onMessage((message) => {
    if (readPickMessage(message) === undefined) return undefined
    // Answered once the picker is up: the popup that asked has usually closed by the time the
    // user clicks a field, and the choice travels through the shared document anyway.
    pick().catch((error: unknown) => warn(`coedit: could not share the field (${String(error)})`))
    return Promise.resolve<PickAnswer>({ ok: true })
  })

  connect()

  return {
    get active() {
      return active
    },
    replica,
    fields,
    panel,
    pick,
    destroy() {
      stop(undefined)
      panel.destroy()
      for (const off of offs) off()
    },
  }
}

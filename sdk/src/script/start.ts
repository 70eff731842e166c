/**
 * `Coedit.start`: one session for the page plus what the script tag promises on top of the npm
 * package — every `[data-coedit]` field bound (field-bindings.ts), a presence badge (badge.ts)
 * and a default user. Everything it starts is released by the instance's `destroy()`.
 */
import * as Y from 'yjs'
import { readUser } from '../awareness/presence.js'
import { createSession, type Session } from '../session.js'
import { createBadge, type Badge } from './badge.js'
import { withDefaults } from './default-user.js'
import { createFieldBindings, type Binding } from './field-bindings.js'
import { checkStartOptions, type StartOptions } from './start-options.js'

export interface CoeditInstance {
  readonly session: Session
  /** Binds `element` to `session.getText(fieldId)`; throws `CoeditError` if it cannot. */
  bind(element: HTMLElement, fieldId: string): Binding
  unbind(element: HTMLElement): void
  /** The session's events (`status`, `peers`, `synced`, `saved`, `error`). */
  on: Session['on']
  /** Unbinds every field, removes the badge and the observer, and ends the session. */
  destroy(): Promise<void>
}

export interface StartContext {
  /** The page; default the global `document`. */
  readonly document?: Document
  /** Called once when `destroy()` begins. */
  readonly onDestroy?: () => void
}

/** Starts a session on the page. Misuse throws (`CoeditError` or the session's `TypeError`). */
export const startCoedit = (options: StartOptions, context: StartContext = {}): CoeditInstance => {
  checkStartOptions(options)
  const page = context.document ?? document
  const { badge: badgeOption = true, bindAll = true, user: userOption, ...sessionOptions } = options
  // The default user is derived from the client id, so the document is made first.
  const ownsDoc = options.doc === undefined
  const doc = options.doc ?? new Y.Doc()
  const user = withDefaults(doc.clientID, userOption)
  let session: Session
  try {
    session = createSession({ ...sessionOptions, doc, user })
  } catch (error) {
    if (ownsDoc) doc.destroy()
    throw error
  }

  const fields = createFieldBindings({ session, document: page })
  if (bindAll) fields.watch()
  const badge: Badge | undefined =
    badgeOption === false
      ? undefined
      : createBadge({
          session,
          document: page,
          self: () => readUser(session.awareness.getLocalState()?.['user']) ?? user,
          offlineCopy: sessionOptions.offline !== false && typeof indexedDB !== 'undefined',
          ...(badgeOption === true ? {} : { container: badgeOption }),
        })

  let destroying: Promise<void> | undefined
  const destroy = async () => {
    context.onDestroy?.()
    try {
      badge?.destroy()
      fields.destroy()
    } finally {
      await session.destroy()
      if (ownsDoc) doc.destroy()
    }
  }
  return {
    session,
    bind: (element, fieldId) => fields.bind(element, fieldId),
    unbind: (element) => fields.unbind(element),
    on: session.on.bind(session),
    destroy: () => (destroying ??= destroy()),
  }
}

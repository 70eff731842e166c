/**
 * Binds one recognised field (field-kind.ts) to its shared text with the npm package's bindings,
 * with the session's awareness (remote cursors) and per-field undo manager, so two elements bound
 * to the same field id share one text and one undo history for this user.
 */
import { bindContentEditable } from '../bindings/content-editable.js'
import { bindQuill } from '../bindings/quill.js'
import { bindTextField } from '../bindings/text-field.js'
import type { Session } from '../session.js'
import type { FieldTarget } from './field-kind.js'

/** What the script needs of a session to bind fields (a test passes a bare document). */
export type FieldSession = Pick<Session, 'awareness' | 'getText' | 'undoManager'>

/** Binds `target` to `session.getText(fieldId)`; returns the binding's `destroy`. May throw. */
export const bindField = (
  session: FieldSession,
  target: FieldTarget,
  fieldId: string,
): (() => void) => {
  const ytext = session.getText(fieldId)
  const options = {
    awareness: session.awareness,
    undoManager: session.undoManager(ytext),
    field: fieldId,
  }
  switch (target.kind) {
    case 'text-field': {
      const binding = bindTextField(ytext, target.element, options)
      return () => binding.destroy()
    }
    case 'quill': {
      const binding = bindQuill(ytext, target.quill, options)
      return () => binding.destroy()
    }
    case 'content-editable': {
      const binding = bindContentEditable(ytext, target.element, options)
      return () => binding.destroy()
    }
  }
}

/**
 * Public entry of the rich contenteditable binding; the implementation lives in `rich/`.
 */
export {
  bindContentEditable,
  type ContentEditableBinding,
  type ContentEditableOptions,
} from './rich/binding.js'
export type { Format } from './rich/schema.js'

/**
 * quill.html: a Quill 2 editor (vendored, snow theme) bound to the room's `doc` field — the same
 * shared text as document.html's contenteditable, so a Quill user and a contenteditable user
 * edit one document. The formats are the ones both editors share (Coedit's schema).
 *
 * The editor starts empty on purpose: an empty editor seeds nothing, so it can never add a
 * second copy of the Document page's sample text (the two editors would describe the same text
 * with differently shaped deltas, and seeds only merge when they are identical).
 */
import { showNotice, startDemo } from './demo.js'

const FIELD = 'doc'
const container = document.getElementById('quill-editor')

const createEditor = (Quill) =>
  new Quill(container, {
    theme: 'snow',
    placeholder: 'Type here, or open the Document page: it brings a sample text to an empty room.',
    formats: [
      'header',
      'bold',
      'italic',
      'underline',
      'strike',
      'code',
      'link',
      'list',
      'blockquote',
      'code-block',
    ],
    modules: {
      toolbar: [
        [{ header: [1, 2, 3, false] }],
        ['bold', 'italic', 'underline', 'strike', 'code'],
        [{ list: 'bullet' }, { list: 'ordered' }],
        ['blockquote', 'code-block', 'link'],
        ['clean'],
      ],
    },
  })

const { Quill } = window
if (!Quill) {
  startDemo()
  showNotice(
    'Quill did not load (vendor/quill.js): build the demo with `npm run build -w @coedit/demo`.',
  )
} else {
  createEditor(Quill)
  const { instance } = startDemo()
  try {
    // The binding finds this editor through `Quill.find(container)`.
    instance?.bind(container, FIELD)
  } catch (error) {
    console.error('Coedit demo: could not bind the Quill editor', error)
    showNotice(`Could not bind the editor: ${error instanceof Error ? error.message : error}`)
  }
}

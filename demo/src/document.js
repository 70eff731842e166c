/**
 * document.html: the rich `contenteditable` document and its toolbar.
 *
 * The toolbar only changes the editor's DOM (`execCommand`, or plain DOM operations where no
 * command exists); the Coedit binding reads every change from `input` and its MutationObserver,
 * so nothing here talks to the shared document directly. Keyboard formatting (Ctrl/⌘+B, I, U,
 * undo and redo) is the binding's own and needs no code here; the shortcuts below add the
 * formats browsers have no key for.
 */
import { startDemo } from './demo.js'

const editor = document.getElementById('doc-editor')
const toolbar = document.querySelector('.toolbar')
const linkForm = document.getElementById('link-form')
const linkInput = document.getElementById('link-url')
const linkButton = toolbar.querySelector('[data-command="link"]')
const tools = [...toolbar.querySelectorAll('button.tool')]

const platform = navigator.userAgentData?.platform ?? navigator.platform ?? ''
const isMac = /mac|iphone|ipad/i.test(platform)
const BLOCKS = 'h1, h2, h3, p, pre, blockquote, li, div'
const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:'])

// The last selection inside the editor: clicking a toolbar button or typing a link address moves
// focus away, and commands must act on what the user had selected.
let savedRange

const selectionRange = () => {
  const selection = document.getSelection()
  if (!selection || selection.rangeCount === 0) return undefined
  const range = selection.getRangeAt(0)
  return editor.contains(range.commonAncestorContainer) ? range : undefined
}

/** Puts focus and the saved selection back into the editor, unless a remote edit replaced it. */
const restoreSelection = () => {
  // Read before focusing: focus() alone puts a caret at the start of the editor.
  const inside = Boolean(selectionRange())
  editor.focus({ preventScroll: true })
  if (inside || !savedRange) return
  if (!editor.contains(savedRange.startContainer) || !editor.contains(savedRange.endContainer)) {
    return
  }
  const selection = document.getSelection()
  selection?.removeAllRanges()
  selection?.addRange(savedRange)
}

/** The closest `selector` around the selection's start, inside the editor. */
const around = (selector) => {
  const node = selectionRange()?.startContainer
  const element = node?.nodeType === Node.ELEMENT_NODE ? node : node?.parentElement
  const found = element?.closest(selector)
  return found && editor.contains(found) && found !== editor ? found : null
}

const blockIs = (tag) => around(BLOCKS)?.localName === tag

const exec = (command, value) => document.execCommand(command, false, value)

const toggleBlock = (tag) => exec('formatBlock', blockIs(tag) ? '<p>' : `<${tag}>`)

/** Replaces `element` with its children. */
const unwrap = (element) => element.replaceWith(...element.childNodes)

/** Selects the contents of `node`. */
const selectContents = (node) => {
  const range = document.createRange()
  range.selectNodeContents(node)
  const selection = document.getSelection()
  selection?.removeAllRanges()
  selection?.addRange(range)
}

/**
 * Inline code has no execCommand: wrap the selection in `<code>`, or unwrap the `<code>` the
 * caret is in. Only within one block — a `<code>` cannot hold paragraphs.
 */
const toggleInlineCode = () => {
  const existing = around('code')
  if (existing && !existing.closest('pre')) {
    unwrap(existing)
    return
  }
  const range = selectionRange()
  if (!range || range.collapsed) return
  const block = (node) =>
    (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement)?.closest(BLOCKS)
  if (block(range.startContainer) !== block(range.endContainer)) return
  const code = document.createElement('code')
  code.append(range.extractContents())
  range.insertNode(code)
  selectContents(code)
}

/** An http(s) or mailto URL from what the user typed (`example.com` → https), or undefined. */
const linkUrl = (text) => {
  const value = text.trim()
  if (!value) return undefined
  const candidate = /^[a-z][a-z0-9+.-]*:/i.test(value)
    ? value
    : value.includes('@') && !value.includes('/')
      ? `mailto:${value}`
      : `https://${value}`
  try {
    const url = new URL(candidate)
    return LINK_PROTOCOLS.has(url.protocol) ? url.href : undefined
  } catch {
    // Not parsable as a URL: the caller asks for another address.
    return undefined
  }
}

const closeLinkForm = ({ refocus = true } = {}) => {
  linkForm.hidden = true
  linkButton.setAttribute('aria-expanded', 'false')
  linkInput.setCustomValidity('')
  if (refocus) restoreSelection()
}

const openLinkForm = () => {
  const range = selectionRange()
  if (range) savedRange = range.cloneRange()
  linkInput.value = around('a')?.getAttribute('href') ?? ''
  linkForm.hidden = false
  linkButton.setAttribute('aria-expanded', 'true')
  linkInput.focus()
  linkInput.select()
}

/**
 * Applies the link form: changes the link the caret is in, links the selected text, or inserts
 * the address itself as a linked text at the caret. A link is replaced rather than edited in
 * place, so the change is a node change the binding sees like any other edit.
 */
const applyLink = (href) => {
  restoreSelection()
  const existing = around('a')
  const range = selectionRange()
  if (existing) {
    const replacement = document.createElement('a')
    replacement.href = href
    replacement.append(...existing.childNodes)
    existing.replaceWith(replacement)
    selectContents(replacement)
  } else if (range && !range.collapsed) {
    exec('createLink', href)
  } else if (range) {
    const link = document.createElement('a')
    link.href = href
    link.textContent = href.replace(/^mailto:/, '')
    range.insertNode(link)
    range.setStartAfter(link)
    range.collapse(true)
    const selection = document.getSelection()
    selection?.removeAllRanges()
    selection?.addRange(range)
  }
}

const removeLink = () => {
  restoreSelection()
  const existing = around('a')
  if (existing) unwrap(existing)
  else exec('unlink')
}

/** What each toolbar command does and when its button shows as pressed. */
const COMMANDS = {
  bold: { run: () => exec('bold'), active: () => document.queryCommandState('bold') },
  italic: { run: () => exec('italic'), active: () => document.queryCommandState('italic') },
  underline: {
    run: () => exec('underline'),
    active: () => document.queryCommandState('underline'),
  },
  strike: {
    run: () => exec('strikeThrough'),
    active: () => document.queryCommandState('strikeThrough'),
  },
  code: { run: toggleInlineCode, active: () => Boolean(around('code')) && !around('pre') },
  h1: { run: () => toggleBlock('h1'), active: () => blockIs('h1') },
  h2: { run: () => toggleBlock('h2'), active: () => blockIs('h2') },
  h3: { run: () => toggleBlock('h3'), active: () => blockIs('h3') },
  'bullet-list': {
    run: () => exec('insertUnorderedList'),
    active: () => around('li')?.parentElement?.localName === 'ul',
  },
  'ordered-list': {
    run: () => exec('insertOrderedList'),
    active: () => around('li')?.parentElement?.localName === 'ol',
  },
  quote: { run: () => toggleBlock('blockquote'), active: () => blockIs('blockquote') },
  'code-block': { run: () => toggleBlock('pre'), active: () => blockIs('pre') },
  link: { run: openLinkForm, active: () => Boolean(around('a')) },
}

const runCommand = (name) => {
  const command = COMMANDS[name]
  if (!command) return
  if (name !== 'link') restoreSelection()
  command.run()
  scheduleToolbarState()
}

// Pressed states follow the selection, at most once a frame.
let stateFrame
const updateToolbarState = () => {
  stateFrame = undefined
  const inEditor = Boolean(selectionRange())
  for (const button of tools) {
    const command = COMMANDS[button.dataset.command]
    button.setAttribute('aria-pressed', String(inEditor && Boolean(command?.active())))
  }
}
function scheduleToolbarState() {
  stateFrame ??= requestAnimationFrame(updateToolbarState)
}

/** `Mod+Shift+X` → "Ctrl+Shift+X" or "⌘⇧X". */
const shortcutLabel = (shortcut) =>
  isMac
    ? shortcut.replace('Mod+', '⌘').replace('Alt+', '⌥').replace('Shift+', '⇧')
    : shortcut.replace('Mod', 'Ctrl')

/** Shortcut (as written in `data-shortcut`) of a keydown, e.g. "Mod+Alt+1". */
const shortcutOf = (event) => {
  if (!(isMac ? event.metaKey : event.ctrlKey)) return undefined
  // AltGr reports Ctrl+Alt on Windows: it types characters (², ³, @…), it is not a shortcut.
  if (event.getModifierState?.('AltGraph')) return undefined
  const key = /^(Digit|Key)(.)$/.exec(event.code)?.[2]
  if (!key) return undefined
  return `Mod+${event.altKey ? 'Alt+' : ''}${event.shiftKey ? 'Shift+' : ''}${key}`
}

const shortcuts = new Map()
for (const button of tools) {
  const { shortcut } = button.dataset
  if (!shortcut) continue
  button.title = `${button.getAttribute('aria-label')} (${shortcutLabel(shortcut)})`
  // Bold, italic and underline are the browser's and the binding's own keys.
  if (!['bold', 'italic', 'underline'].includes(button.dataset.command)) {
    shortcuts.set(shortcut, button.dataset.command)
  }
}

// Toolbar: one tab stop, arrow keys move between buttons (WAI-ARIA toolbar pattern).
tools.forEach((button, i) => button.setAttribute('tabindex', i === 0 ? '0' : '-1'))
toolbar.addEventListener('keydown', (event) => {
  const index = tools.indexOf(document.activeElement)
  if (index < 0) return
  const next =
    event.key === 'ArrowRight'
      ? (index + 1) % tools.length
      : event.key === 'ArrowLeft'
        ? (index - 1 + tools.length) % tools.length
        : event.key === 'Home'
          ? 0
          : event.key === 'End'
            ? tools.length - 1
            : undefined
  if (next === undefined) return
  event.preventDefault()
  tools[index].setAttribute('tabindex', '-1')
  tools[next].setAttribute('tabindex', '0')
  tools[next].focus()
})
// Keep the editor's selection when a button is pressed with the mouse.
toolbar.addEventListener('mousedown', (event) => {
  if (event.target.closest('button.tool')) event.preventDefault()
})
toolbar.addEventListener('click', (event) => {
  const button = event.target.closest('button.tool')
  if (button) runCommand(button.dataset.command)
})

editor.addEventListener('keydown', (event) => {
  const command = shortcuts.get(shortcutOf(event))
  if (!command) return
  event.preventDefault()
  runCommand(command)
})

linkForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const href = linkUrl(linkInput.value)
  if (!href) {
    linkInput.setCustomValidity('Enter a web address (https://…) or an email address.')
    linkInput.reportValidity()
    return
  }
  closeLinkForm({ refocus: false })
  applyLink(href)
  scheduleToolbarState()
})
linkInput.addEventListener('input', () => linkInput.setCustomValidity(''))
linkForm.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') closeLinkForm()
})
document.getElementById('link-cancel').addEventListener('click', () => closeLinkForm())
document.getElementById('link-remove').addEventListener('click', () => {
  closeLinkForm({ refocus: false })
  removeLink()
  scheduleToolbarState()
})

document.addEventListener('selectionchange', () => {
  const range = selectionRange()
  if (range) savedRange = range.cloneRange()
  scheduleToolbarState()
})
editor.addEventListener('input', scheduleToolbarState)

startDemo()

/**
 * What the demo pages that use code share (every page but existing-site.html, which shows the
 * zero-code script tag): the room, this visitor's name and colour, starting Coedit through
 * `window.Coedit`, and the common header (room, share link, name and colour).
 *
 * - Room: `?room=`; without one, a short random room is written into the address bar with
 *   `history.replaceState`, so the address bar is always the link to share.
 * - `?webrtc=off`, `?relay=off` and `?offline=off` become the session options of those names, so
 *   a shared link can show one path alone (e.g. relay only, as behind a UDP-blocking firewall).
 * - Name and colour are remembered in localStorage: a display preference, not a secret (tokens
 *   never go into page storage).
 *
 * Everything shown goes through textContent or element properties; nothing here writes HTML, and
 * nothing read from the URL or storage is trusted beyond what it is checked to be.
 */

const STORAGE_KEY = 'coedit-demo-user'
const COLOR = /^#[0-9a-f]{6}$/i
const MAX_NAME_LENGTH = 40
/** URL parameters that travel with every link between demo pages. */
const KEPT_PARAMS = ['room', 'webrtc', 'relay', 'offline']

/** Readable with white initials on them, distinct from each other. */
export const PALETTE = [
  '#e11d48',
  '#db2777',
  '#9333ea',
  '#4f46e5',
  '#2563eb',
  '#0891b2',
  '#0d9488',
  '#16a34a',
  '#ca8a04',
  '#ea580c',
]
const ADJECTIVES = ['Swift', 'Calm', 'Bright', 'Clever', 'Brave', 'Gentle', 'Lucky', 'Merry']
const ANIMALS = ['Otter', 'Fox', 'Heron', 'Panda', 'Lynx', 'Koala', 'Puffin', 'Badger', 'Wren']

const randomIndex = (length) => crypto.getRandomValues(new Uint32Array(1))[0] % length
const pick = (list) => list[randomIndex(list.length)]

/** A short room name that is easy to read aloud: `demo-` and four lowercase letters/digits. */
const randomRoom = () => {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789' // no 0/o, 1/l/i look-alikes
  let suffix = ''
  for (let i = 0; i < 4; i++) suffix += alphabet[randomIndex(alphabet.length)]
  return `demo-${suffix}`
}

/** The room of this page, writing a new one into the URL when there is none. */
export const currentRoom = () => {
  const url = new URL(location.href)
  const room = url.searchParams.get('room')?.trim()
  if (room) return room
  const fresh = randomRoom()
  url.searchParams.set('room', fresh)
  history.replaceState(history.state, '', url)
  return fresh
}

const cleanName = (value) =>
  typeof value === 'string' ? value.trim().slice(0, MAX_NAME_LENGTH) : ''

/** The remembered user, or undefined when storage is empty, unreadable or malformed. */
const loadUser = () => {
  let raw
  try {
    raw = localStorage.getItem(STORAGE_KEY)
  } catch (error) {
    // Storage can be disabled (privacy settings, sandboxed frames): start with a fresh name.
    console.warn('Coedit demo: cannot read localStorage; using a new name', error)
    return undefined
  }
  if (raw === null) return undefined
  try {
    const value = JSON.parse(raw)
    const name = cleanName(value?.name)
    const color = value?.color
    return name && typeof color === 'string' && COLOR.test(color) ? { name, color } : undefined
  } catch (error) {
    console.warn('Coedit demo: ignoring a malformed saved name', error)
    return undefined
  }
}

const saveUser = (user) => {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(user))
  } catch (error) {
    // Not fatal: the name still applies to this page, it is just not remembered.
    console.warn('Coedit demo: cannot save the name in localStorage', error)
  }
}

/** This visitor's name and colour: remembered, or a new friendly one (then remembered). */
export const currentUser = () => {
  const saved = loadUser()
  if (saved) return saved
  const user = { name: `${pick(ADJECTIVES)} ${pick(ANIMALS)}`, color: pick(PALETTE) }
  saveUser(user)
  return user
}

/** `href` (a page of this demo) with this page's room and transport parameters. */
export const withKeptParams = (href) => {
  const here = new URL(location.href)
  const target = new URL(href, location.href)
  for (const name of KEPT_PARAMS) {
    const value = here.searchParams.get(name)
    if (value !== null) target.searchParams.set(name, value)
  }
  return target.href
}

/** Session options from `?webrtc=off`, `?relay=off`, `?offline=off`. */
const transportOptions = () => {
  const params = new URL(location.href).searchParams
  const off = (name) => params.get(name) === 'off'
  return {
    ...(off('webrtc') ? { webrtc: false } : {}),
    ...(off('relay') ? { relay: false } : {}),
    ...(off('offline') ? { offline: false } : {}),
  }
}

/** Shows a problem in the page's notice area (`#demo-notice`), as text. */
export const showNotice = (message) => {
  const notice = document.getElementById('demo-notice')
  if (!notice) return
  notice.textContent = message
  notice.hidden = false
}

/** Copies `text` to the clipboard; falls back to a selected textarea outside secure contexts. */
export const copyText = async (text) => {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text)
    return
  }
  const scratch = document.createElement('textarea')
  scratch.value = text
  scratch.setAttribute('readonly', '')
  scratch.style.position = 'fixed'
  scratch.style.opacity = '0'
  document.body.append(scratch)
  scratch.select()
  const copied = document.execCommand('copy')
  scratch.remove()
  if (!copied) throw new Error('the browser refused to copy')
}

/**
 * The link to share: this page with its room (`kind` 'page'), or the same link with WebRTC off
 * (`kind` 'relay'), which shows the relay path alone.
 */
export const shareUrl = (kind = 'page') => {
  const url = new URL(location.href)
  url.hash = ''
  if (kind === 'relay') url.searchParams.set('webrtc', 'off')
  return url.href
}

/**
 * Wires every `button[data-copy="page|relay"]`: copies that share link and says so in the
 * button for a moment (the button is an `aria-live` region, so screen readers hear it too).
 */
const wireCopyButtons = () => {
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const label = button.textContent
    let timer
    const say = (text) => {
      button.textContent = text
      clearTimeout(timer)
      timer = setTimeout(() => {
        button.textContent = label
      }, 1600)
    }
    button.addEventListener('click', () => {
      copyText(shareUrl(button.dataset.copy)).then(
        () => say('Copied!'),
        (error) => {
          console.warn('Coedit demo: copy failed', error)
          say('Copy from the address bar')
        },
      )
    })
  }
}

/** Fills what carries the room: navigation links, shown share links and the room name. */
const fillLinks = (room) => {
  for (const link of document.querySelectorAll('a[data-keep-room]')) {
    link.href = withKeptParams(link.getAttribute('href') ?? '')
  }
  for (const link of document.querySelectorAll('a[data-share-link]')) {
    link.href = shareUrl(link.dataset.shareLink)
    link.textContent = link.href
  }
  for (const element of document.querySelectorAll('[data-room-name]')) element.textContent = room
}

/** The header's name and colour inputs: edits apply to presence at once and are remembered. */
const wireUserInputs = (user, onChange) => {
  const nameInput = document.getElementById('user-name')
  const colorInput = document.getElementById('user-color')
  let current = user
  if (nameInput) nameInput.value = user.name
  if (colorInput) colorInput.value = user.color
  const apply = () => {
    const name = cleanName(nameInput?.value) || current.name
    const color = COLOR.test(colorInput?.value ?? '') ? colorInput.value : current.color
    if (name === current.name && color === current.color) return
    current = { name, color }
    saveUser(current)
    onChange(current)
  }
  nameInput?.addEventListener('input', apply)
  nameInput?.addEventListener('change', () => {
    // An emptied name field snaps back to the name in use.
    if (nameInput.value.trim() === '') nameInput.value = current.name
  })
  colorInput?.addEventListener('input', apply)
}

/**
 * Starts the demo on this page: room, user, header, and a Coedit instance that binds every
 * `[data-coedit]` field. Returns `{ room, user, instance }`; `instance` is undefined (and a
 * notice says why) when the bundle did not load or refused to start.
 */
export const startDemo = () => {
  const room = currentRoom()
  const user = currentUser()
  let instance
  fillLinks(room)
  wireCopyButtons()
  wireUserInputs(user, (next) => instance?.session.setUser(next))

  const Coedit = window.Coedit
  if (!Coedit) {
    showNotice(
      'Coedit did not load (/coedit.js): run `npm run build` at the repository root, then ' +
        'serve this demo with `npm start`.',
    )
    return { room, user, instance }
  }
  try {
    instance = Coedit.start({
      server: location.origin,
      room,
      user,
      ...transportOptions(),
    })
  } catch (error) {
    console.error('Coedit demo: could not start', error)
    showNotice(`Coedit could not start: ${error instanceof Error ? error.message : error}`)
    return { room, user, instance }
  }
  instance.on('error', (error) => {
    console.warn(`Coedit ${error.transport} error (${error.code}): ${error.message}`)
  })
  return { room, user, instance }
}

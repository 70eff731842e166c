/**
 * The badge's DOM: a `<div data-coedit-badge>` host with an open shadow root (site CSS reaches it
 * through custom properties and `::part`, and tests can look inside). Everything remote is set as
 * text (`textContent`, `title`) or as a validated colour through `style`; no markup is ever
 * parsed. The host mirrors the state as `data-*` attributes for site CSS and tests.
 *
 * Site theming: `--coedit-badge-bg`, `--coedit-badge-fg`, `--coedit-badge-font` (a font-family
 * list), `--coedit-badge-offset` (distance from the corner), and `::part(badge|chip|status)`.
 */
import { PATH_TEXT, SAVING_TEXT, type BadgeChip, type BadgeState } from './badge-state.js'

export interface BadgeView {
  readonly host: HTMLElement
  render(state: BadgeState): void
}

export const BADGE_ATTRIBUTE = 'data-coedit-badge'

const STYLE = `
  :host {
    position: fixed;
    right: var(--coedit-badge-offset, 16px);
    bottom: var(--coedit-badge-offset, 16px);
    z-index: 2147483000;
    display: block;
  }
  :host([data-inline]) { position: static; display: inline-block; }
  .badge {
    display: flex; align-items: center; gap: 8px;
    padding: 4px 10px 4px 4px; border-radius: 999px;
    background: var(--coedit-badge-bg, #fff); color: var(--coedit-badge-fg, #222);
    font-family: var(--coedit-badge-font, system-ui, sans-serif); font-size: 12px; line-height: 1.3;
    box-shadow: 0 1px 4px rgba(0, 0, 0, 0.25); user-select: none;
  }
  .chips { display: flex; }
  .chip {
    display: inline-flex; align-items: center; justify-content: center;
    box-sizing: border-box; width: 26px; height: 26px; margin-left: -6px;
    border: 2px solid var(--coedit-badge-bg, #fff); border-radius: 50%;
    font-size: 11px; font-weight: 600; background: #757575; color: #fff;
  }
  .chip:first-child { margin-left: 0; }
  .status { white-space: nowrap; }
  .path::after { content: " · "; }
`

const setText = (element: HTMLElement, text: string) => {
  if (element.textContent !== text) element.textContent = text
}

const setAttribute = (element: HTMLElement, name: string, value: string) => {
  if (element.getAttribute(name) !== value) element.setAttribute(name, value)
}

export const createBadgeView = (page: Document): BadgeView => {
  const element = <K extends keyof HTMLElementTagNameMap>(tag: K, className: string) => {
    const created = page.createElement(tag)
    created.className = className
    return created
  }
  const host = page.createElement('div')
  host.setAttribute(BADGE_ATTRIBUTE, '')
  const root = host.attachShadow({ mode: 'open' })
  const style = page.createElement('style')
  style.textContent = STYLE
  const badge = element('div', 'badge')
  badge.setAttribute('part', 'badge')
  const chips = element('span', 'chips')
  const status = element('span', 'status')
  status.setAttribute('part', 'status')
  const path = element('span', 'path')
  const saving = element('span', 'saved')
  status.append(path, saving)
  badge.append(chips, status)
  root.append(style, badge)

  const chipElement = (chip: BadgeChip) => {
    const span = element('span', chip.self ? 'chip self' : 'chip')
    span.setAttribute('part', 'chip')
    span.textContent = chip.initials
    span.title = chip.title
    span.style.backgroundColor = chip.color
    span.style.color = chip.textColor
    return span
  }

  return {
    host,
    render(state) {
      const shown = state.chips.map(chipElement)
      if (state.more.length > 0) {
        const more = element('span', 'chip more')
        more.setAttribute('part', 'chip')
        more.textContent = `+${state.more.length}`
        more.title = state.more.join(', ')
        shown.push(more)
      }
      chips.replaceChildren(...shown)
      setText(path, PATH_TEXT[state.path])
      setText(saving, SAVING_TEXT[state.saving])
      const others = state.names.length
      badge.setAttribute(
        'aria-label',
        `${others === 0 ? 'Nobody else' : others === 1 ? '1 other person' : `${others} others`} ` +
          `here; ${PATH_TEXT[state.path]}; ${SAVING_TEXT[state.saving]}`,
      )
      setAttribute(host, 'data-peers', String(others))
      setAttribute(host, 'data-path', state.path)
      setAttribute(host, 'data-saved', String(state.saved))
      setAttribute(host, 'data-saving', state.saving)
      setAttribute(host, 'data-names', JSON.stringify(state.names))
    },
  }
}

/**
 * The one element the extension adds to a page for each of its overlays (picker, panel): an
 * autonomous custom element (`coedit-…`, so the page's `div` rules miss it) with an open shadow
 * root for its content. Its placement is set inline with `!important`: a page's stylesheet beats
 * a shadow root's `:host` rules, and a page that hides or moves unknown elements must not hide
 * the picker or the notice that the extension stopped.
 */
export interface OverlayHost {
  readonly host: HTMLElement
  readonly root: ShadowRoot
}

export const createOverlayHost = (
  page: Document,
  tag: `coedit-${string}`,
  placement: Readonly<Record<string, string>>,
): OverlayHost => {
  const host = page.createElement(tag)
  const base: Record<string, string> = {
    display: 'block',
    position: 'fixed',
    margin: '0',
    padding: '0',
    border: '0',
    opacity: '1',
    visibility: 'visible',
    transform: 'none',
    ...placement,
  }
  for (const [property, value] of Object.entries(base)) {
    host.style.setProperty(property, value, 'important')
  }
  return { host, root: host.attachShadow({ mode: 'open' }) }
}

/**
 * Test pages from HTML, without innerHTML: parsed by the window's DOMParser and moved into a
 * document that has a window (field rules need one). `openPage` gives each "user" a window of
 * their own, so two copies of a page can be live at once.
 */
import { Window } from 'happy-dom'

/** Replaces the body of `document` with the body of `html`. */
export const setPage = (html: string, target: Document = document): Document => {
  const view = target.defaultView as unknown as { DOMParser: typeof DOMParser }
  const parsed = new view.DOMParser().parseFromString(`<body>${html}</body>`, 'text/html')
  target.body.replaceChildren(...Array.from(parsed.body.childNodes))
  return target
}

export interface OpenPage {
  readonly document: Document
  close(): Promise<void>
}

/** A page in a window of its own. */
export const openPage = (html: string): OpenPage => {
  const window = new Window({ url: 'https://example.test/form' })
  const page = window.document as unknown as Document
  setPage(html, page)
  return { document: page, close: () => window.happyDOM.close() }
}

/** The element matching `selector`, or a thrown error naming it. */
export const $ = <T extends Element = HTMLElement>(
  selector: string,
  page: Document = document,
): T => {
  const found = page.querySelector(selector)
  if (found === null) throw new Error(`no element matches ${selector}`)
  return found as unknown as T
}

/**
 * The page every browser test opens: an empty document that loads one bundled entry as a module.
 * The empty icon spares a 404 (logged as a console error) for /favicon.ico.
 */
import { buildBrowserBundle } from './bundle.js'
import { startStaticServer, type StaticServer } from './static-server.js'

export const serveBundlePage = async (entry: string): Promise<StaticServer> =>
  startStaticServer({
    '/index.html': `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
      <script type="module" src="/coedit.js"></script>`,
    '/coedit.js': await buildBrowserBundle(entry),
  })

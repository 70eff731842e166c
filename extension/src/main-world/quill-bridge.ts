/**
 * Entry of `quill-bridge.js`: the script the extension injects into a page's main world
 * (`scripting.executeScript({ world: 'MAIN', files: ['quill-bridge.js'] })`) so that the content
 * script can bind the page's own Quill instance, which the isolated world cannot see. Bundled as
 * a self-contained IIFE; nothing here is exported to the page.
 *
 * What the page can learn from it: only this field's content and cursor positions, which travel
 * as DOM events the page can observe (see bridge-protocol.ts). No extension API, key, token or
 * other field is reachable from this world.
 */
import { installQuillBridge } from './install-bridge.js'

installQuillBridge(window)

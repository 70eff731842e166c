/**
 * index.html: the landing page. It joins the room too (with no fields), so the presence badge
 * already shows a second window arriving before anyone opens an editor.
 */
import { startDemo } from './demo.js'

startDemo()

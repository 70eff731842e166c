/**
 * The built script bundle, for the tests that check the artifact itself. They need a build: the
 * error says how to make one rather than failing on a missing file.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// Paths from the file path, not `new URL(…, import.meta.url)`: under happy-dom `URL` is the
// DOM's, which Node's fs and url helpers do not accept.
const HERE = dirname(fileURLToPath(import.meta.url))
export const SDK_DIR = resolve(HERE, '../..')
export const BUNDLE_PATH = resolve(SDK_DIR, 'dist/script/coedit.js')

/** The bundle's text; throws naming the build command when it has not been built. */
export const readBundle = (): string => {
  if (!existsSync(BUNDLE_PATH)) {
    throw new Error(
      `${BUNDLE_PATH} does not exist: run \`npm run build\` at the repository root ` +
        '(or `npm run build:script -w @coedit/sdk`) before these tests',
    )
  }
  return readFileSync(BUNDLE_PATH, 'utf8')
}

/**
 * Static files from one public directory (`--public`), for the demo and small sites served from
 * the same origin as the server. Files are looked up per request and streamed (a rebuild shows
 * at once); `Cache-Control: no-cache` with an ETag from size and mtime makes browsers revalidate
 * every time and get 304s.
 *
 * Safety is this module's job: a URL path can only name a regular file whose real path (symlinks
 * resolved) lies inside the directory. Encoded `..` or `/`, backslashes, NUL, empty segments and
 * dot-files (`.env`, `.git`) are refused before the file system is asked, and a symlink leading
 * out is refused after `realpath`. Every refusal looks exactly like a missing file.
 */
import { realpathSync, statSync } from 'node:fs'
import { open, realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { CoeditError } from '@coedit/sdk/protocol'
import type { Logger } from 'pino'
import { isNotModified } from './responses.js'

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
}
/** With `nosniff`, an unknown type is downloaded rather than guessed (and never run). */
const FALLBACK_TYPE = 'application/octet-stream'

export const contentTypeOf = (file: string): string =>
  CONTENT_TYPES[extname(file).toLowerCase()] ?? FALLBACK_TYPE

/**
 * The file-system path segments a raw URL path (no query) names, or undefined if it names
 * nothing servable. Each segment is decoded on its own, so `..%2f` stays inside one segment and
 * is refused for its `/`.
 */
export const segmentsOf = (rawPath: string): string[] | undefined => {
  if (!rawPath.startsWith('/')) return undefined
  const parts = rawPath.slice(1).split('/')
  const segments: string[] = []
  for (const [index, part] of parts.entries()) {
    // Only the last part may be empty (a trailing slash). `//` is refused: it would make the
    // directory redirect below protocol-relative (`Location: //evil.example/`).
    if (part === '') {
      if (index === parts.length - 1) break
      return undefined
    }
    let segment: string
    try {
      segment = decodeURIComponent(part)
    } catch {
      return undefined // malformed percent-encoding
    }
    if (segment.startsWith('.') || /[/\\\0]/.test(segment)) return undefined
    segments.push(segment)
  }
  return segments
}

/** File-system errors that mean "no file to serve here" (answered 404, like a missing file). */
const UNSERVABLE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'EACCES', 'EPERM'])
const isUnservable = (error: unknown): boolean =>
  UNSERVABLE.has((error as NodeJS.ErrnoException | undefined)?.code ?? '')

export interface StaticFiles {
  /** Real path of the public directory. */
  readonly root: string
  /**
   * Answers a GET or HEAD for `rawPath` (the URL path, still percent-encoded) with the file, a
   * 304, or a redirect to the directory's slash form; resolves false when there is no such file
   * (the caller answers 404).
   */
  serve(request: IncomingMessage, response: ServerResponse, rawPath: string): Promise<boolean>
}

type Found =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'directory-without-slash' }
  | { readonly kind: 'none' }

export const createStaticFiles = (options: { dir: string; logger: Logger }): StaticFiles => {
  const { logger } = options
  let root: string
  try {
    root = realpathSync(resolve(options.dir))
    if (!statSync(root).isDirectory()) throw new Error('not a directory')
  } catch (error) {
    throw new CoeditError(
      'public-dir-missing',
      `Public directory ${resolve(options.dir)} is not a directory: build or create it ` +
        '(the demo: `npm run build`), or leave out --public.',
      { cause: error },
    )
  }

  /** `path`'s real path if it lies inside the root, else undefined. */
  const inside = async (path: string): Promise<string | undefined> => {
    const real = await realpath(path)
    return real === root || real.startsWith(root + sep) ? real : undefined
  }

  const find = async (rawPath: string): Promise<Found> => {
    const segments = segmentsOf(rawPath)
    if (segments === undefined) return { kind: 'none' }
    let path = await inside(join(root, ...segments))
    if (path === undefined) return { kind: 'none' }
    if ((await stat(path)).isDirectory()) {
      // Relative links in the index page resolve against the URL: it must end with a slash.
      if (!rawPath.endsWith('/')) return { kind: 'directory-without-slash' }
      path = await inside(join(path, 'index.html'))
      if (path === undefined) return { kind: 'none' }
    }
    // Regular files only: opening a FIFO or a device would block or never end.
    return (await stat(path)).isFile() ? { kind: 'file', path } : { kind: 'none' }
  }

  const send = async (request: IncomingMessage, response: ServerResponse, path: string) => {
    const handle = await open(path, 'r')
    let streaming = false
    try {
      const { size, mtimeMs } = await handle.stat()
      const etag = `W/"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`
      const headers = {
        'Cache-Control': 'no-cache',
        ETag: etag,
        'X-Content-Type-Options': 'nosniff',
      }
      if (isNotModified(request, etag)) {
        response.writeHead(304, headers)
        response.end()
        return
      }
      response.writeHead(200, {
        ...headers,
        'Content-Type': contentTypeOf(path),
        'Content-Length': size,
      })
      if (request.method === 'HEAD' || size === 0) {
        response.end()
        return
      }
      streaming = true
      // Capped at the size announced: a file growing meanwhile must not overrun Content-Length.
      const stream = handle.createReadStream({ start: 0, end: size - 1 })
      await pipeline(stream, response).catch((error: unknown) => {
        // Mostly clients that went away mid-file; the headers are out, nothing else to send.
        logger.debug({ err: error }, 'static file stream ended early')
      })
    } finally {
      // The stream closes the handle itself once it was created.
      if (!streaming) await handle.close()
    }
  }

  return {
    root,
    async serve(request, response, rawPath) {
      let found: Found
      try {
        found = await find(rawPath)
      } catch (error) {
        if (isUnservable(error)) return false
        throw error
      }
      if (found.kind === 'none') return false
      if (found.kind === 'directory-without-slash') {
        const query = request.url?.slice(rawPath.length) ?? ''
        response.writeHead(301, { Location: `${rawPath}/${query}`, 'Cache-Control': 'no-cache' })
        response.end()
        return true
      }
      try {
        await send(request, response, found.path)
      } catch (error) {
        // Deleted between lookup and open (a rebuild): the same as never there.
        if (isUnservable(error) && !response.headersSent) return false
        throw error
      }
      return true
    },
  }
}

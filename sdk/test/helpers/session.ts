/**
 * Test helpers for sessions: a real Coedit server on a free port (the server workspace's own
 * helper), sessions in Node (relay only, `ws` as WebSocket), and waiting on session events.
 */
import WebSocket from 'ws'
import {
  createSession,
  type Session,
  type SessionEvents,
  type SessionOptions,
} from '../../src/index.js'
import type { WebSocketConstructor } from '../../src/index.js'

export { startServer, type TestServer } from '../../../signaling-server/test/helpers/server.js'

export const nodeSession = (
  server: string,
  room: string,
  options: Partial<SessionOptions> = {},
): Session =>
  createSession({
    server,
    room,
    webrtc: false,
    offline: false,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...options,
  })

/** Resolves when `condition()` holds, re-checking on every listed session event or doc update. */
export const waitFor = (
  description: string,
  sessions: readonly Session[],
  condition: () => boolean,
  timeoutMs = 20_000,
): Promise<void> =>
  new Promise((resolve, reject) => {
    const offs: (() => void)[] = []
    const finish = (error?: Error) => {
      clearTimeout(timer)
      for (const off of offs) off()
      if (error === undefined) resolve()
      else reject(error)
    }
    const check = () => {
      if (condition()) finish()
    }
    const timer = setTimeout(
      () => finish(new Error(`timed out after ${timeoutMs} ms waiting for: ${description}`)),
      timeoutMs,
    )
    const events: (keyof SessionEvents)[] = ['status', 'synced', 'saved', 'peers', 'error']
    for (const session of sessions) {
      for (const event of events) offs.push(session.on(event, check))
      session.doc.on('update', check)
      offs.push(() => session.doc.off('update', check))
    }
    check()
  })

/** The next `event` payload of `session` that satisfies `predicate`. */
export const nextEvent = <K extends keyof SessionEvents>(
  session: Session,
  event: K,
  predicate: (payload: SessionEvents[K]) => boolean = () => true,
): Promise<SessionEvents[K]> =>
  new Promise((resolve) => {
    const off = session.on(event, (payload) => {
      if (!predicate(payload)) return
      off()
      resolve(payload)
    })
  })

export const texts = (sessions: readonly Session[], field = 'text'): string[] =>
  sessions.map((session) => session.getText(field).toString())

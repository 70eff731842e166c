/**
 * A minimal content-script side of the `coedit-doc` protocol for testing the session host: a
 * replica Y.Doc that says hello, applies what the host sends, answers `sync` with what the host
 * lacks, and posts its own changes. Every message it receives is read with readHostToContent (a
 * malformed one fails the test) and kept in `received`.
 */
import * as Y from 'yjs'
import {
  fromBase64,
  readHostToContent,
  toBase64,
  type ContentToHost,
  type CursorJson,
  type HostToContent,
} from '../../../src/shared/messages.js'
import type { FakePort } from './fake-port.js'

export interface TestReplica {
  readonly doc: Y.Doc
  readonly received: HostToContent[]
  readonly disconnected: boolean
  text(field?: string): Y.Text
  setCursor(cursor: CursorJson | null): void
  /** Resolves when `condition()` holds, re-checked on every message, local change and close. */
  until(description: string, condition: () => boolean, timeoutMs?: number): Promise<void>
  destroy(): void
}

const FROM_HOST = Symbol('from host')

export const createTestReplica = (port: FakePort<ContentToHost>): TestReplica => {
  const doc = new Y.Doc()
  const received: HostToContent[] = []
  const checks = new Set<() => void>()
  let synced = false
  let disconnected = false
  const recheck = () => {
    for (const check of [...checks]) check()
  }

  port.onMessage((data) => {
    const message = readHostToContent(data)
    if (message === undefined)
      throw new Error(`malformed message from host: ${JSON.stringify(data)}`)
    received.push(message)
    switch (message.type) {
      case 'sync':
        Y.applyUpdate(doc, fromBase64(message.update), FROM_HOST)
        port.postMessage({
          type: 'sync',
          update: toBase64(Y.encodeStateAsUpdate(doc, fromBase64(message.stateVector))),
        })
        synced = true
        break
      case 'update':
        Y.applyUpdate(doc, fromBase64(message.update), FROM_HOST)
        break
      default:
        break
    }
    recheck()
  })
  port.onDisconnect(() => {
    disconnected = true
    recheck()
  })
  const onUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin !== FROM_HOST && synced && !port.disconnected) {
      port.postMessage({ type: 'update', update: toBase64(update) })
    }
    recheck()
  }
  doc.on('update', onUpdate)
  port.postMessage({ type: 'hello', stateVector: toBase64(Y.encodeStateVector(doc)) })

  return {
    doc,
    received,
    get disconnected() {
      return disconnected
    },
    text: (field = 'field:a') => doc.getText(field),
    setCursor: (cursor) => port.postMessage({ type: 'cursor', cursor }),
    until: (description, condition, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!condition()) return
          clearTimeout(timer)
          checks.delete(check)
          resolve()
        }
        const timer = setTimeout(() => {
          checks.delete(check)
          reject(new Error(`timed out after ${timeoutMs} ms waiting for: ${description}`))
        }, timeoutMs)
        checks.add(check)
        check()
      }),
    destroy() {
      doc.off('update', onUpdate)
      doc.destroy()
    },
  }
}

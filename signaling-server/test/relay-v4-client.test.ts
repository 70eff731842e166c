/**
 * The stock y-websocket v4 client (`@y/websocket`, on the Yjs 14 line) against the relay, next to
 * a v3 client: both sync through `ws://host:port/relay` and see each other's edits.
 */
import { WebsocketProvider as WebsocketProviderV4 } from '@y/websocket'
import * as Y14 from '@y/y'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

/** Yjs 14 has one unified shared type: `doc.get(name)` is what `getText(name)` was. */
const textV4 = (doc: Y14.Doc) => doc.get('t')

const servers: TestServer[] = []
const cleanups: (() => void)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup()
  for (const server of servers.splice(0)) await server.close()
})

describe('relay with the stock y-websocket v4 client', () => {
  it('syncs a v4 client with a v3 client, both ways, and serves a late v4 joiner', async () => {
    const server = await startServer()
    servers.push(server)
    const url = `${server.wsUrl}/relay`
    const options = {
      WebSocketPolyfill: WebSocket as never,
      disableBc: true,
    }
    const docV4 = new Y14.Doc()
    const v4 = new WebsocketProviderV4(url, 'mixed', docV4, options)
    const docV3 = new Y.Doc()
    const v3 = new WebsocketProvider(url, 'mixed', docV3, options)
    cleanups.push(
      () => v4.destroy(),
      () => v3.destroy(),
    )
    await until('v4 synced', () => v4.synced, [[v4, 'sync']])
    await until('v3 synced', () => v3.synced, [[v3, 'sync']])

    textV4(docV4).insert(0, 'four ')
    await until('v3 sees v4', () => docV3.getText('t').toString() === 'four ', [[docV3, 'update']])
    docV3.getText('t').insert(5, 'three')
    await until('v4 sees v3', () => textV4(docV4).toString() === 'four three', [[docV4, 'update']])

    const lateDoc = new Y14.Doc()
    const late = new WebsocketProviderV4(url, 'mixed', lateDoc, options)
    cleanups.push(() => late.destroy())
    await until('late v4 synced', () => late.synced, [[late, 'sync']])
    expect(textV4(lateDoc).toString()).toBe('four three')
  })
})

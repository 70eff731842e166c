/**
 * Export and restore (R26): `coedit-server export` writes a room's state as one Yjs update;
 * `coedit-server import` into an empty data directory reproduces the room exactly.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectRelay, type TestRelayClient } from './helpers/relay-client.js'
import { makeDataDir, startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

const BIN = new URL('../bin/coedit-server.js', import.meta.url).pathname
const servers: TestServer[] = []
const clients: TestRelayClient[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  for (const server of servers.splice(0)) await server.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const cli = (...args: string[]) => {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`coedit-server ${args[0]} failed: ${result.stderr}`)
  return result
}

const joinRoom = async (server: TestServer, room: string) => {
  const client = connectRelay(server.wsUrl, room, { coedit: true })
  clients.push(client)
  await until('synced', () => client.synced, [[client.events, 'synced']])
  return client
}

describe('export and restore', () => {
  it('restores a room into an empty server identically', async () => {
    const source = await startServer()
    const writer = await joinRoom(source, 'notes')
    const text = writer.doc.getText('t')
    text.insert(0, 'Hello, world')
    text.format(0, 5, { bold: true })
    text.delete(5, 1)
    writer.doc.getMap('meta').set('title', 'Notes')
    await until('saved', () => writer.isSaved(), [[writer.events, 'saved']])
    writer.ws.terminate()
    await source.close({ keepData: true })
    dirs.push(source.dataDir)

    const work = mkdtempSync(join(tmpdir(), 'coedit-archive-'))
    dirs.push(work)
    const file = join(work, 'notes.yjs')
    cli('export', '--data', source.dataDir, '--room', 'notes', '--file', file)
    const target = makeDataDir()
    dirs.push(target)
    cli('import', '--data', target, '--room', 'notes', '--file', file)

    const restoredServer = await startServer({ dataDir: target })
    servers.push(restoredServer)
    const reader = await joinRoom(restoredServer, 'notes')
    expect(reader.doc.getText('t').toDelta()).toEqual(writer.doc.getText('t').toDelta())
    expect(reader.doc.getMap('meta').toJSON()).toEqual({ title: 'Notes' })
    expect(Y.encodeStateVector(reader.doc)).toEqual(Y.encodeStateVector(writer.doc))
    expect(readFileSync(file).length).toBeGreaterThan(0)
  })

  it('refuses to import a file that is not a Yjs update', () => {
    const work = mkdtempSync(join(tmpdir(), 'coedit-archive-'))
    dirs.push(work)
    const file = join(work, 'junk.bin')
    writeFileSync(file, Buffer.from('definitely not yjs'))
    const result = spawnSync(
      process.execPath,
      [BIN, 'import', '--data', work, '--room', 'r', '--file', file],
      { encoding: 'utf8' },
    )
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/not a Yjs update/)
  })
})

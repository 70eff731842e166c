import { afterEach, describe, expect, it } from 'vitest'
import type { Session } from '../../src/index.js'
import {
  createGatedStorage,
  type GatedStorage,
} from '../../../signaling-server/test/helpers/gated-storage.js'
import { makeDataDir } from '../../../signaling-server/test/helpers/server.js'
import {
  nextEvent,
  nodeSession,
  startServer,
  waitFor,
  type TestServer,
} from '../helpers/session.js'

describe('saved', () => {
  let server: TestServer
  let storage: GatedStorage
  const sessions: Session[] = []
  const setup = async () => {
    const dataDir = makeDataDir()
    storage = createGatedStorage(dataDir)
    server = await startServer({ dataDir, storage })
    const a = nodeSession(server.url, 'saved-room')
    const b = nodeSession(server.url, 'saved-room')
    sessions.push(a, b)
    await Promise.all([a.whenSynced(), b.whenSynced()])
    return { a, b }
  }
  afterEach(async () => {
    storage.setMode('open')
    await Promise.all(sessions.splice(0).map((session) => session.destroy()))
    await server.close()
  })

  it('turns false on a local edit and true once the server persisted it', async () => {
    const { a } = await setup()
    await a.whenSaved()
    const unsaved = nextEvent(a, 'saved')
    a.getText('text').insert(0, 'durable?')
    expect(a.saved).toBe(false)
    expect(await unsaved).toEqual({ saved: false })
    expect(await nextEvent(a, 'saved')).toEqual({ saved: true })
    // The acknowledgement is real: the update is in storage.
    expect(storage.appends).toBeGreaterThan(0)
  })

  it('a deletion alone (no new state vector entry) is unsaved until acknowledged', async () => {
    const { a } = await setup()
    a.getText('text').insert(0, 'abc')
    await waitFor('a saved', [a], () => a.saved)
    storage.setMode('stall')
    const blocked = storage.blockedWrite()
    a.getText('text').delete(0, 1)
    expect(a.saved).toBe(false)
    await blocked
    expect(a.saved).toBe(false)
    storage.setMode('open')
    await waitFor('a saved after the gate opened', [a], () => a.saved)
  })

  for (const mode of ['stall', 'fail'] as const) {
    it(`stays false while storage ${mode}s and turns true after it recovers`, async () => {
      const { a, b } = await setup()
      await a.whenSaved()
      storage.setMode(mode)
      const blocked = storage.blockedWrite()
      a.getText('text').insert(0, 'while storage is down')
      await blocked
      // Live editing goes on: b receives the edit through the server…
      await waitFor('b got the edit', [b], () => b.getText('text').length > 0)
      // …but a is not told it is saved.
      expect(a.saved).toBe(false)
      const recovered = performance.now()
      storage.setMode('open')
      await waitFor('a saved after recovery', [a], () => a.saved)
      // Not asserted (shared machines are noisy); the server retries at most 500 ms apart.
      console.info(`saved ${Math.round(performance.now() - recovered)} ms after storage recovered`)
    })
  }
})

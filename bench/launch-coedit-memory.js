// Diagnostic variant for the benchmark (`--servers coedit-memory`): Coedit's relay through its
// public API (`createServer`) with an in-memory storage instead of SQLite, so that a run can tell
// the relay's own cost from persistence's. Not a supported configuration. Port in argv[2]; the
// URL of the `@coedit/server` entry module to use in argv[3] (the benchmark's frozen build copy).
const { createServer } = await import(process.argv[3] ?? '@coedit/server')

const rooms = new Map()
/** @type {import('@coedit/server').Storage} */
const storage = {
  loadRoom: async (room) => {
    const updates = rooms.get(room) ?? []
    return {
      updates: [...updates],
      bytes: updates.reduce((sum, u) => sum + u.length, 0),
      logCount: updates.length,
    }
  },
  appendUpdates: async (room, updates) => {
    const log = rooms.get(room) ?? []
    log.push(...updates)
    rooms.set(room, log)
  },
  appendBatches: async (batches) => {
    for (const { room, updates } of batches) {
      const log = rooms.get(room) ?? []
      log.push(...updates)
      rooms.set(room, log)
    }
  },
  compact: async (room) => {
    const log = rooms.get(room) ?? []
    const bytes = log.reduce((sum, u) => sum + u.length, 0)
    return { compacted: false, mergedRows: 0, snapshotBytes: 0, storedBytes: bytes }
  },
  roomStats: async (room) => {
    const log = rooms.get(room) ?? []
    return { bytes: log.reduce((sum, u) => sum + u.length, 0), logCount: log.length }
  },
  healthy: async () => true,
  close: async () => {},
}

const server = createServer({
  port: Number(process.argv[2]),
  storage,
  limits: { maxConnectionsPerIp: 100_000, connectionsPerSecond: 100_000 },
})
await server.listen()
process.on('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
})

// Hocuspocus for the benchmark: `@hocuspocus/server` in memory, no extensions, default
// configuration (its default `flushDelay: 0` coalesces broadcasts within one event-loop turn),
// bound to 127.0.0.1 on the port given as argv[2].
import { Server } from '@hocuspocus/server'

const port = Number(process.argv[2])
const server = new Server({ port, address: '127.0.0.1', quiet: true, stopOnSignals: false })
await server.listen()
process.stdout.write(`listening ${port}\n`)
process.on('SIGTERM', () => process.exit(0))

// Reference server for the benchmark: `@y/websocket-server@0.1.1`'s own connection handler on a
// plain HTTP server, in memory (no YPERSISTENCE), as its bundled `server.js` runs it, but bound to
// 127.0.0.1 on a port given as argv[2] and serving rooms at `/relay/<room>` like Coedit.
import http from 'node:http'
import { WebSocketServer } from 'ws'
import { setupWSConnection } from '@y/websocket-server/utils'

const port = Number(process.argv[2])
const wss = new WebSocketServer({ noServer: true })
const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'Content-Type': 'text/plain' })
  response.end('okay')
})
server.on('upgrade', (request, socket, head) => {
  const room = decodeURIComponent((request.url ?? '/').split('?')[0].replace(/^\/relay\//, ''))
  wss.handleUpgrade(request, socket, head, (ws) =>
    setupWSConnection(ws, request, { docName: room }),
  )
})
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`))
process.on('SIGTERM', () => process.exit(0))

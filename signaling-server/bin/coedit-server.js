#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in ../dist (built by `npm install` at the repo
// root through its `prepare` script, or by `npm run build`).
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(cli)) {
  console.error('coedit-server is not built yet: run `npm run build` at the repository root.')
  process.exit(1)
}
const { main } = await import(cli.href)
await main(process.argv.slice(2))

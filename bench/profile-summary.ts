/**
 * Summarizes a V8 `.cpuprofile` (from `npm run bench -- --profile coedit`): the functions with the
 * most self time, and the most inclusive time, optionally only those whose script URL contains a
 * filter (e.g. `signaling-server/dist`).
 *
 *   node --import tsx bench/profile-summary.ts bench/results/profiles/coedit-*.cpuprofile [--filter dist] [--top 30]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  hitCount?: number
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { filter: { type: 'string', default: '' }, top: { type: 'string', default: '30' } },
})
const top = Number(values.top)

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '~/')
    .replace(/^.*\/signaling-server\//, 'server/')
const frameKey = (frame: CallFrame) =>
  `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id)
  // Self time per node from samples and time deltas (µs).
  const selfUs = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0))
  }
  const totalUs = [...selfUs.values()].reduce((sum, value) => sum + value, 0)
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (node === undefined) continue
    const key = frameKey(node.callFrame)
    self.set(key, (self.get(key) ?? 0) + us)
    // Each function once per stack, so recursion is not counted twice.
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame
      if (frame === undefined) break
      const frameName = frameKey(frame)
      if (seen.has(frameName)) continue
      seen.add(frameName)
      inclusive.set(frameName, (inclusive.get(frameName) ?? 0) + us)
    }
  }
  const show = (title: string, table: Map<string, number>) => {
    process.stdout.write(`\n${title}\n`)
    const rows = [...table]
      .filter(([key]) => values.filter === '' || key.includes(values.filter))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
    for (const [key, us] of rows) {
      process.stdout.write(
        `${(us / 1000).toFixed(0).padStart(8)} ms ${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${key}\n`,
      )
    }
  }
  process.stdout.write(`${file}: ${(totalUs / 1000).toFixed(0)} ms sampled\n`)
  show('Self time', self)
  show('Inclusive time', inclusive)
}

import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests run against the protocol sources, not a possibly stale build.
const alias = {
  '@coedit/sdk/protocol': fileURLToPath(new URL('./sdk/src/protocol/index.ts', import.meta.url)),
}

// One Vitest project per workspace that has tests. Server tests start real servers on port 0,
// real SQLite files in temp dirs and real child processes; they share 2 cores, so files run
// with limited parallelism and generous timeouts (no timed assertions: see DEVELOPERS.md).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'sdk',
          alias,
          root: './sdk',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'server',
          alias,
          root: './signaling-server',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
    maxWorkers: 2,
    // CI reads the JSON report (.ci/run prints "N passed, N failed" from it).
    reporters: process.env['CI'] ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest-report.json' },
  },
})

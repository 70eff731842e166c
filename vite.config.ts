import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'

// Tests run against the protocol sources, not a possibly stale build.
const alias = {
  '@coedit/sdk/protocol': fileURLToPath(new URL('./sdk/src/protocol/index.ts', import.meta.url)),
}
// The extension's unit tests import the SDK by package name: its sources, not `sdk/dist`.
const extensionAlias = {
  ...alias,
  '@coedit/sdk': fileURLToPath(new URL('./sdk/src/index.ts', import.meta.url)),
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
          // Browser tests need Chromium and a private network namespace: project `browser`.
          exclude: [...configDefaults.exclude, 'test/browser/**'],
          environment: 'node',
          // Real servers and seeded simulations on 2 shared cores: the default 5 s is too tight
          // when the machine is busy (a timeout here says nothing about correctness).
          testTimeout: 30_000,
          hookTimeout: 30_000,
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
      {
        test: {
          name: 'extension',
          alias: extensionAlias,
          root: './extension',
          include: ['test/**/*.test.ts'],
          // Chromium with the extension loaded: project `extension-browser`.
          exclude: [...configDefaults.exclude, 'test/e2e/**'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        // Real headless Chromium (playwright-core + /usr/bin/chromium) against real servers, run
        // only inside the network namespace of scripts/in-netns.mjs (`npm run test:browser`); the
        // helpers refuse to launch a browser anywhere else. One file at a time: a Chromium with
        // two pages already loads both cores.
        test: {
          name: 'browser',
          alias,
          root: './sdk',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The built extension loaded into Chromium profiles (launchPersistentContext), inside the
        // network namespace like `browser`; one file at a time for the same reason.
        test: {
          name: 'extension-browser',
          alias: extensionAlias,
          root: './extension',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
    maxWorkers: 2,
    // CI reads the JSON reports (.ci/run prints "N passed, N failed" from their sum). The
    // browser run passes its own `--outputFile.json` so it does not overwrite this one.
    reporters: process.env['CI'] ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest-report.json' },
  },
})

/**
 * Flags and environment variables of `coedit-server` mapped onto server options, without starting
 * a process (cli.test.ts runs the real CLI): the public directory and the script bundle.
 */
import { describe, expect, it } from 'vitest'
import { parseServeOptions, SERVE_USAGE } from '../src/cli-options.js'

describe('coedit-server options', () => {
  it('reads --public and --script-bundle', () => {
    const options = parseServeOptions(
      ['--public', 'demo/dist', '--script-bundle', 'x/coedit.js'],
      {},
    )
    expect(options.publicDir).toBe('demo/dist')
    expect(options.scriptBundle).toBe('x/coedit.js')
  })

  it('leaves both to their defaults when neither flag nor variable is given', () => {
    const options = parseServeOptions([], {})
    expect(options.publicDir).toBeUndefined()
    expect(options.scriptBundle).toBeUndefined()
  })

  it('reads COEDIT_PUBLIC and COEDIT_SCRIPT_BUNDLE, and lets flags win over them', () => {
    const env = { COEDIT_PUBLIC: 'from-env', COEDIT_SCRIPT_BUNDLE: 'env.js' }
    expect(parseServeOptions([], env)).toMatchObject({
      publicDir: 'from-env',
      scriptBundle: 'env.js',
    })
    expect(
      parseServeOptions(['--public', 'from-flag', '--script-bundle', 'flag.js'], env),
    ).toMatchObject({ publicDir: 'from-flag', scriptBundle: 'flag.js' })
  })

  it('turns the bundle off with --no-script-bundle or COEDIT_NO_SCRIPT_BUNDLE=1', () => {
    expect(parseServeOptions(['--no-script-bundle'], {}).scriptBundle).toBe(false)
    expect(
      parseServeOptions(['--no-script-bundle'], { COEDIT_SCRIPT_BUNDLE: 'env.js' }).scriptBundle,
    ).toBe(false)
    expect(parseServeOptions([], { COEDIT_NO_SCRIPT_BUNDLE: '1' }).scriptBundle).toBe(false)
    expect(
      parseServeOptions(['--script-bundle', 'flag.js'], { COEDIT_NO_SCRIPT_BUNDLE: '1' })
        .scriptBundle,
    ).toBe('flag.js')
  })

  it('refuses --script-bundle together with --no-script-bundle', () => {
    expect(() => parseServeOptions(['--script-bundle', 'a.js', '--no-script-bundle'], {})).toThrow(
      /either --script-bundle <file> or --no-script-bundle/,
    )
  })

  it('documents the new flags and their variables in --help', () => {
    for (const text of [
      '--public <dir>',
      'COEDIT_PUBLIC',
      '--script-bundle <file>',
      'COEDIT_SCRIPT_BUNDLE',
      '--no-script-bundle',
      'COEDIT_NO_SCRIPT_BUNDLE',
    ]) {
      expect(SERVE_USAGE).toContain(text)
    }
  })

  it('reads --trust-proxy (or COEDIT_TRUST_PROXY) as a list of addresses', () => {
    expect(parseServeOptions(['--trust-proxy', '10.0.0.5, 10.0.0.6'], {}).trustProxy).toEqual([
      '10.0.0.5',
      '10.0.0.6',
    ])
    expect(parseServeOptions([], { COEDIT_TRUST_PROXY: '127.0.0.1' }).trustProxy).toEqual([
      '127.0.0.1',
    ])
    expect(parseServeOptions([], {}).trustProxy).toBeUndefined()
  })

  it('reads --cluster-sync-interval-ms into the cluster options', () => {
    expect(parseServeOptions(['--cluster-sync-interval-ms', '2500'], {}).cluster).toEqual({
      syncIntervalMs: 2500,
    })
    expect(
      parseServeOptions([], { COEDIT_CLUSTER_SYNC_INTERVAL_MS: '900' }).cluster.syncIntervalMs,
    ).toBe(900)
    expect(parseServeOptions([], {}).cluster).toEqual({})
  })

  it('reads --compact-after-rows into the persistence options', () => {
    expect(parseServeOptions(['--compact-after-rows', '50'], {}).persistence).toEqual({
      compactAfterRows: 50,
    })
    expect(
      parseServeOptions([], { COEDIT_COMPACT_AFTER_ROWS: '7' }).persistence.compactAfterRows,
    ).toBe(7)
  })
})

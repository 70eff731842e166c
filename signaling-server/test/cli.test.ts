/**
 * `coedit-server` as a newcomer meets it: the compiled CLI run as a child process from the
 * repository root — `npx coedit-server`, `keygen`, `token`, auth with those keys, the safe default
 * for non-loopback hosts (R34), environment variables, a public directory and the script bundle,
 * usage errors — and tokens never reaching its output (R28).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { adminQuery, createTestSchema, requirePostgres } from './helpers/postgres.js'
import { connectRelay, type TestRelayClient } from './helpers/relay-client.js'
import { until } from './helpers/wait.js'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CLI = fileURLToPath(new URL('../bin/coedit-server.js', import.meta.url))
const SQLITE_FILE = 'coedit.sqlite'
const URL_LINE = /Coedit server running at (http:\/\/\S+)/

interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

interface CliProcess {
  readonly child: ChildProcess
  /** Leader of its own process group (cleanup kills the group). */
  readonly detached: boolean
  readonly exited: Promise<Exit>
  /** Everything written to stdout and stderr so far. */
  output(): string
  stderr(): string
}

const children = new Set<CliProcess>()
const dirs: string[] = []
const clients: TestRelayClient[] = []

const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'coedit-cli-'))
  dirs.push(dir)
  return dir
}

/** The environment without any `COEDIT_*` or `LOG_LEVEL` variable of the test runner's own. */
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('COEDIT_') && name !== 'LOG_LEVEL',
    ),
  ),
  ...extra,
})

/**
 * Starts a command from the repository root. `detached` puts it in its own process group, so that
 * cleanup also reaches what it spawns (`npx` runs the server as a grandchild).
 */
const launch = (
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; detached?: boolean } = {},
): CliProcess => {
  const detached = options.detached ?? false
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  })
  let output = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    stderr += chunk.toString()
  })
  // 'close', not 'exit': by then both pipes are drained, so output() is complete.
  const exited = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  )
  const launched: CliProcess = {
    child,
    detached,
    exited,
    output: () => output,
    stderr: () => stderr,
  }
  children.add(launched)
  return launched
}

/** Runs `coedit-server <args>` to completion. */
const runCli = async (args: readonly string[], env?: Record<string, string>) => {
  const run = launch(process.execPath, [CLI, ...args], env === undefined ? {} : { env })
  const exit = await run.exited
  return { ...exit, output: run.output(), stderr: run.stderr() }
}

/** Resolves with the URL the server prints on stderr; rejects if it exits first. */
const printedUrl = (run: CliProcess): Promise<string> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed:\n${run.output()}`)), 20_000)
    const check = () => {
      const url = URL_LINE.exec(run.stderr())?.[1]
      if (url === undefined) return
      clearTimeout(timer)
      run.child.stderr?.off('data', check)
      resolve(url)
    }
    run.child.stderr?.on('data', check)
    check()
    void run.exited.then((exit) => {
      clearTimeout(timer)
      reject(new Error(`exited (${exit.code ?? exit.signal}) before listening:\n${run.output()}`))
    })
  })

/** Starts `coedit-server <args>` and waits until it listens. */
const startCli = async (args: readonly string[], env?: Record<string, string>) => {
  const run = launch(process.execPath, [CLI, ...args], env === undefined ? {} : { env })
  const url = await printedUrl(run)
  return { run, url, wsUrl: url.replace(/^http/, 'ws') }
}

/** SIGTERM, then the exit (a graceful shutdown). */
const stop = async (run: CliProcess): Promise<Exit> => {
  run.child.kill('SIGTERM')
  return run.exited
}

const killGroup = (pid: number) => {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch (error) {
    // ESRCH: the whole group is gone already.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  for (const { child, detached, exited } of children) {
    if (detached && child.pid !== undefined) killGroup(child.pid)
    else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  children.clear()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const healthz = async (url: string): Promise<unknown> => {
  const response = await fetch(`${url}/healthz`)
  expect(response.status).toBe(200)
  return response.json()
}

/** A port nobody listens on right now (the kernel's pick for port 0, released again). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createNetServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })

const decodeJwtPart = (part: string | undefined): Record<string, unknown> =>
  JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>

/** `keygen --out <dir>` and the paths it reports. */
const keygen = async (dir: string) => {
  const result = await runCli(['keygen', '--out', dir])
  expect(result.code, result.output).toBe(0)
  return {
    privatePath: join(dir, 'coedit-private.jwk.json'),
    publicPath: join(dir, 'coedit-public.jwks.json'),
    output: result.output,
  }
}

/** `token ...` → the JWT it prints. */
const mintToken = async (args: readonly string[]): Promise<string> => {
  const result = await runCli(['token', ...args])
  expect(result.code, result.output).toBe(0)
  return result.output.trim()
}

describe('coedit-server CLI', () => {
  it('starts with `npx coedit-server` from the repository root, answers /healthz and creates its SQLite file', async () => {
    const data = join(tempDir(), 'data')
    const run = launch('npx', ['coedit-server', '--port', '0', '--data', data], { detached: true })
    const url = await printedUrl(run)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(await healthz(url)).toMatchObject({ status: 'ok' })
    expect(existsSync(join(data, SQLITE_FILE))).toBe(true)
  })

  it('keygen writes a private JWK and a public JWKS; token prints a room-scoped JWT', async () => {
    const { privatePath, publicPath, output } = await keygen(tempDir())
    expect(output).toContain(`--auth-keys ${publicPath}`)

    const privateJwk = JSON.parse(readFileSync(privatePath, 'utf8')) as Record<string, unknown>
    expect(privateJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })
    expect(typeof privateJwk['d']).toBe('string')
    expect(typeof privateJwk['kid']).toBe('string')
    expect(statSync(privatePath).mode & 0o777).toBe(0o600)
    const publicJwks = JSON.parse(readFileSync(publicPath, 'utf8')) as { keys: unknown[] }
    expect(publicJwks.keys).toHaveLength(1)
    expect(publicJwks.keys[0]).toMatchObject({ kid: privateJwk['kid'], x: privateJwk['x'] })
    expect(publicJwks.keys[0]).not.toHaveProperty('d')

    const jwt = await mintToken([
      '--key',
      privatePath,
      '--room',
      'r',
      '--perm',
      'read',
      '--ttl',
      '5m',
    ])
    const parts = jwt.split('.')
    expect(parts).toHaveLength(3)
    expect(decodeJwtPart(parts[0])).toMatchObject({ alg: 'EdDSA', kid: privateJwk['kid'] })
    const payload = decodeJwtPart(parts[1])
    expect(payload).toMatchObject({ room: 'r', perm: 'read', aud: 'coedit' })
    expect(Number(payload['exp']) - Number(payload['iat'])).toBe(300)
  })

  it('with --auth-keys, admits a token for the room, closes others with 4401 and 4403, and never logs tokens', async () => {
    const { privatePath, publicPath } = await keygen(tempDir())
    const token = await mintToken([
      '--key',
      privatePath,
      '--room',
      'r',
      '--perm',
      'read',
      '--ttl',
      '5m',
    ])
    const [header, payload, signature = ''] = token.split('.')
    // Same header and claims, a signature that does not verify.
    const forged = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`
    const { run, wsUrl } = await startCli([
      '--port',
      '0',
      '--data',
      tempDir(),
      '--auth-keys',
      publicPath,
      '--log-level',
      'trace',
    ])

    const admitted = connectRelay(wsUrl, 'r', { token })
    clients.push(admitted)
    await until('admitted client synced', () => admitted.synced, [[admitted.events, 'synced']])
    expect(admitted.closeCode).toBeUndefined()

    const refused = [
      { client: connectRelay(wsUrl, 'r'), code: 4401 },
      { client: connectRelay(wsUrl, 'r', { token: forged }), code: 4401 },
      { client: connectRelay(wsUrl, 'elsewhere', { token }), code: 4403 },
    ]
    clients.push(...refused.map(({ client }) => client))
    const closes = await Promise.all(refused.map(({ client }) => client.closed))
    expect(closes.map(({ code }) => code)).toEqual(refused.map(({ code }) => code))
    expect(admitted.closeCode).toBeUndefined()

    // After a graceful exit every log line is out; then read them all.
    expect(await stop(run)).toEqual({ code: 0, signal: null })
    expect((await admitted.closed).code).toBe(1012)
    const logs = run.output()
    // The refusals were logged (at trace level, everything is), so the check below means something.
    expect(logs).toContain('forbidden')
    expect(logs).toContain('unauthorized')
    for (const secret of [token, signature, forged, forged.split('.')[2] ?? '']) {
      expect(secret.length).toBeGreaterThan(20)
      expect(logs).not.toContain(secret)
    }
  })

  it('refuses --host 0.0.0.0 without auth keys and names --insecure', async () => {
    const result = await runCli(['--host', '0.0.0.0', '--port', '0', '--data', tempDir()])
    expect(result.code).not.toBe(0)
    expect(result.code).not.toBeNull()
    expect(result.stderr).toContain('--insecure')
    expect(result.output).not.toMatch(URL_LINE)
  })

  it('reads COEDIT_PORT and COEDIT_DATA like --port and --data', async () => {
    const port = await freePort()
    const data = join(tempDir(), 'from-env')
    const { run, url } = await startCli([], { COEDIT_PORT: String(port), COEDIT_DATA: data })
    expect(url).toBe(`http://127.0.0.1:${port}`)
    expect(await healthz(url)).toMatchObject({ status: 'ok' })
    expect(existsSync(join(data, SQLITE_FILE))).toBe(true)
    expect(await stop(run)).toEqual({ code: 0, signal: null })
  })

  it('lets a flag win over its environment variable', async () => {
    const fromEnv = join(tempDir(), 'env')
    const fromFlag = join(tempDir(), 'flag')
    const { run } = await startCli(['--port', '0', '--data', fromFlag], { COEDIT_DATA: fromEnv })
    expect(existsSync(join(fromFlag, SQLITE_FILE))).toBe(true)
    expect(existsSync(fromEnv)).toBe(false)
    expect(await stop(run)).toEqual({ code: 0, signal: null })
  })

  it('stores into PostgreSQL with --postgres, not into SQLite', async () => {
    await requirePostgres()
    const schema = await createTestSchema()
    try {
      const data = tempDir()
      const { run, wsUrl } = await startCli([
        '--port',
        '0',
        '--data',
        data,
        '--postgres',
        schema.url,
      ])
      const client = connectRelay(wsUrl, 'pg-room', { coedit: true })
      clients.push(client)
      await until('synced', () => client.synced, [[client.events, 'synced']])
      client.doc.getText('t').insert(0, 'kept in PostgreSQL')
      await until('saved', () => client.isSaved(), [[client.events, 'saved']])
      const rows = await adminQuery<{ count: string }>(
        `SELECT count(*) FROM ${schema.name}.coedit_updates WHERE room = 'pg-room'`,
      )
      expect(Number(rows[0]?.count)).toBeGreaterThan(0)
      expect(existsSync(join(data, SQLITE_FILE))).toBe(false)
      expect(await stop(run)).toEqual({ code: 0, signal: null })
    } finally {
      await schema.drop()
    }
  })

  it('serves --public files at / and --script-bundle at /coedit.js', async () => {
    const site = tempDir()
    writeFileSync(join(site, 'index.html'), '<title>from --public</title>')
    const bundle = join(tempDir(), 'bundle.js')
    writeFileSync(bundle, 'window.Coedit = { cli: true }\n')
    const { run, url } = await startCli([
      '--port',
      '0',
      '--data',
      tempDir(),
      '--public',
      site,
      '--script-bundle',
      bundle,
    ])
    expect(await (await fetch(`${url}/`)).text()).toBe('<title>from --public</title>')
    const script = await fetch(`${url}/coedit.js`)
    expect(script.headers.get('access-control-allow-origin')).toBe('*')
    expect(await script.text()).toBe('window.Coedit = { cli: true }\n')
    expect(await stop(run)).toEqual({ code: 0, signal: null })
  })

  it('reads COEDIT_PUBLIC and COEDIT_NO_SCRIPT_BUNDLE like --public and --no-script-bundle', async () => {
    const site = tempDir()
    writeFileSync(join(site, 'coedit.js'), "/* the site's own copy */")
    const { run, url } = await startCli(['--port', '0', '--data', tempDir()], {
      COEDIT_PUBLIC: site,
      COEDIT_NO_SCRIPT_BUNDLE: '1',
    })
    // No bundle route: the file of that name in the public directory answers.
    expect(await (await fetch(`${url}/coedit.js`)).text()).toBe("/* the site's own copy */")
    expect(await stop(run)).toEqual({ code: 0, signal: null })
  })

  it('exits with code 2 when --public or --script-bundle names nothing', async () => {
    const missing = join(tempDir(), 'not-built')
    for (const flag of ['--public', '--script-bundle']) {
      const result = await runCli(['--port', '0', '--data', tempDir(), flag, missing])
      expect(result.code, flag).toBe(2)
      expect(result.stderr, flag).toContain(missing)
      expect(result.output, flag).not.toMatch(URL_LINE)
    }
  })

  it('exits with code 2 and a usage hint on an unknown flag', async () => {
    const result = await runCli(['--port', '0', '--data', tempDir(), '--no-such-flag'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--no-such-flag')
    expect(result.stderr).toContain('coedit-server --help')
    expect(result.output).not.toMatch(URL_LINE)

    const help = await runCli(['--help'])
    expect(help.code).toBe(0)
    expect(help.output).toContain('Usage: coedit-server')
  })
})

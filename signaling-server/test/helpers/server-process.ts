/**
 * The compiled `coedit-server` CLI as a real child process, for tests that kill, signal or
 * restart it. `stopAllServerProcesses` (call it in afterEach) SIGKILLs whatever is still running.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const CLI = fileURLToPath(new URL('../../bin/coedit-server.js', import.meta.url))

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface ServerProcess {
  readonly child: ChildProcess
  readonly url: string
  readonly wsUrl: string
  readonly exited: Promise<Exit>
}

const children = new Set<ChildProcess>()

/** Runs `coedit-server` as a child process; resolves once it printed the URL it listens on. */
export const startServerProcess = (args: readonly string[]): Promise<ServerProcess> => {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed:\n${output}`)), 20_000)
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const url = /Coedit server running at (http:\/\/\S+)/.exec(output)?.[1]
      if (url === undefined) return
      clearTimeout(timer)
      resolve({ child, url, wsUrl: url.replace(/^http/, 'ws'), exited })
    })
    void exited.then((exit) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${exit.code ?? exit.signal}) before listening:\n${output}`))
    })
  })
}

/** SIGKILLs every server process still running and waits for them to exit. */
export const stopAllServerProcesses = async (): Promise<void> => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      const exit = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exit
    }
  }
  children.clear()
}

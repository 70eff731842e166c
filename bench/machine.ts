/**
 * The machine a benchmark runs on: what it is, for the results' "Measured … on …" line, and how
 * busy the rest of it is. The machines are shared, so every benchmark waits for the other
 * processes to go quiet before a run and reports the CPU they used during it.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'
import { sleep } from './async.js'
import { machineBusyMs, processStats } from './servers.js'

/**
 * CPUs, memory, kernel and Node, then `rest`: what else the benchmark says about the set-up (the
 * Chromium version, who shares the cores), starting with its own separator.
 */
export const describeMachine = (rest: string): string => {
  const cpu = cpus()
  return (
    `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}, ` +
    `Node ${process.versions.node}${rest}`
  )
}

/** User + system CPU time of this process (all its threads), ms. */
export const processCpuMs = (): number => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

/** CPU time (ms) of this process and all its descendants (Chromium and its renderers). */
export const ownTreeCpuMs = (): number => {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue // the process exited while we listed /proc
    }
    // Fields after "(comm)": state, then ppid.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
  }
  let total = 0
  const stack = [process.pid]
  while (stack.length > 0) {
    const pid = stack.pop() as number
    try {
      total += processStats(pid).cpuMs
    } catch {
      continue // exited meanwhile: its CPU is gone with it
    }
    stack.push(...(children.get(pid) ?? []))
  }
  return total
}

/**
 * Waits (up to `maxMs`) until the rest of the machine uses less than 30 % of a core; returns what
 * it used over the last second, % of a core. "The rest" is everything but `ownCpuMs`: this process
 * (the default), or this process and the browser it started (`ownTreeCpuMs`).
 */
export const waitForQuiet = async (
  maxMs: number,
  ownCpuMs: () => number = processCpuMs,
): Promise<number> => {
  const deadline = performance.now() + maxMs
  for (;;) {
    const busy = machineBusyMs()
    const own = ownCpuMs()
    await sleep(1_000)
    const othersPct = (machineBusyMs() - busy - (ownCpuMs() - own)) / 10
    if (othersPct < 30 || performance.now() >= deadline) return othersPct
  }
}

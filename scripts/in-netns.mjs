#!/usr/bin/env node
/**
 * `node scripts/in-netns.mjs <command...>` runs the command as root in a fresh private network
 * namespace: loopback plus a veth pair v0 (10.99.0.1/24) and v1 (10.99.0.2/24), default route via
 * v1. Browser tests run under it (`npm run test:browser`).
 *
 * Why: browser tests must send nothing off the machine. Even with its quiet flags Chromium looks up
 * Google hosts, and WebRTC sends mDNS multicast on every real interface; in a namespace of our own
 * there is nowhere for that to go. The veth pair and the default route exist only for WebRTC:
 * Chromium gathers no ICE candidates on loopback alone, nor without a default route.
 *
 * The command inherits stdio; its exit code (or the signal that killed it) becomes ours.
 */
import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { constants as os } from 'node:os'
import { delimiter, join } from 'node:path'
import process from 'node:process'

const fail = (message) => {
  process.stderr.write(`in-netns: ${message}\n`)
  process.exit(2)
}

const onPath = (name) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK)
      return true
    } catch {
      return false // not in this directory; keep looking
    }
  })

const command = process.argv.slice(2)
if (command.length === 0) fail('usage: node scripts/in-netns.mjs <command...>')
// Never fall back to running on the real network: a skipped isolation is a silent leak.
if (process.getuid?.() !== 0) {
  fail('creating a network namespace needs root: run as root (CI does) or under sudo.')
}
if (!onPath('unshare')) fail('`unshare` not found: apt-get install -y util-linux')
if (!onPath('ip')) fail('`ip` not found: apt-get install -y iproute2')

// `set -e`: a half-configured namespace must stop here, not fail later as a mystery ICE timeout.
// Both `unshare` (without --fork) and `exec` replace themselves, so the child we signal is the
// command itself.
const setup = `set -e
ip link set lo up
ip link add v0 type veth peer name v1
ip addr add 10.99.0.1/24 dev v0
ip addr add 10.99.0.2/24 dev v1
ip link set v0 up
ip link set v1 up
ip route add default via 10.99.0.2 dev v0
exec "$@"`

const child = spawn('unshare', ['-n', 'sh', '-c', setup, 'sh', ...command], { stdio: 'inherit' })

// Forward termination signals, then exit when the child does: it decides how to wind down. (A
// terminal's Ctrl-C reaches the child directly as well; Vitest treats the second as the first.)
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP']
const forward = (signal) => child.kill(signal)
for (const signal of signals) process.on(signal, forward)

child.on('error', (error) => fail(`could not start unshare: ${error.message}`))
child.on('exit', (code, signal) => {
  for (const s of signals) process.off(s, forward)
  // Die of the same signal so callers (shells, npm) see 128+n, as if there were no wrapper.
  if (signal === null) process.exit(code ?? 1)
  process.kill(process.pid, signal)
  // Signals Node ignores by default (SIGPIPE) would leave us running: exit the shell's way.
  process.exit(128 + (os.signals[signal] ?? 0))
})

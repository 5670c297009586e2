// What the benches that drive a cluster measure of a process they started: CPU-seconds and peak
// RSS read from /proc, and a command run to its end with its wall time.
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'

export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout.trim()) || 100

/** Runs a command to its end (throws with its last stderr when it fails) and times it. */
export function run(command, args, options = {}) {
  const started = process.hrtime.bigint()
  const r = spawnSync(command, args, {encoding: 'utf8', maxBuffer: 1 << 28, env: {...process.env, NO_COLOR: '1'}, ...options})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (r.status !== 0) throw new Error(`${command} ${args.slice(0, 3).join(' ')} … failed (${r.status}):\n${String(r.stderr).slice(-2000)}`)
  return {ms, stdout: r.stdout}
}

/** CPU-seconds (user + system) of a process so far, from /proc. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}

/** Peak resident set size in MiB (VmHWM) of a process. */
export function peakRssMiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : undefined
}

/**
 * The resident set of a process now, in MiB, split as the kernel counts it: `anon` is the
 * process's own memory (V8's heap, malloc), `file` the pages of mapped files (mostly the node
 * binary's code and read-only data, shared with every node process and the page cache).
 */
export function residentMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN)
  const mib = (value) => Math.round(value / 102.4) / 10
  return {rss: mib(kb('VmRSS')), anon: mib(kb('RssAnon')), file: mib(kb('RssFile'))}
}

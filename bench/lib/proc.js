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

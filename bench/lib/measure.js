// Wall-clock timing of whole processes. Cases are interleaved (A B C A B C ...) so that load from
// other work on the machine falls on every case alike; medians, not means, summarise the runs.
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'

export class BenchError extends Error {}

/**
 * CPU time (user + system, ms) of the children this process has waited for, from /proc/self/stat
 * (Linux; in clock ticks of 10 ms, so a mean over many runs is what says something), or undefined
 * elsewhere. On a shared machine wall time mostly measures the other work; CPU time does not.
 */
export function childrenCpuMs() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')
    // cutime and cstime are fields 16 and 17 of the file, 14 and 15 after "pid (comm) ".
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100
  } catch {
    return undefined
  }
}

/**
 * Runs one process to completion and returns its wall time in milliseconds (and its CPU time in
 * `cpu.ms`, where known). `before`, when given, runs first and is not timed: it sets the scene,
 * e.g. empties a cache for a first run.
 */
export function timeProcess({command, args, cwd, env, expectExit = 0, before}, cpu = {}) {
  before?.()
  const cpuBefore = childrenCpuMs()
  const start = process.hrtime.bigint()
  const result = spawnSync(command, args, {cwd, env: env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  const cpuAfter = childrenCpuMs()
  cpu.ms = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore
  if (result.error) throw new BenchError(`${command} ${args.join(' ')}: ${result.error.message}`)
  if (result.status !== expectExit) {
    throw new BenchError(`${command} ${args.join(' ')} exited ${result.status ?? result.signal}, expected ${expectExit}\n${String(result.stderr).slice(0, 2000)}`)
  }
  return ms
}

/**
 * Times every case `runs` times, interleaved, after `warmup` untimed rounds (which fill the file
 * system cache). Returns {name: samples[]} of wall times; `cpu`, when given, gets {name: samples[]}
 * of CPU times.
 */
export function interleave(cases, {runs, warmup = 1, onRound, cpu} = {}) {
  const samples = Object.fromEntries(cases.map((c) => [c.name, []]))
  if (cpu) for (const c of cases) cpu[c.name] = []
  for (let round = -warmup; round < runs; round++) {
    // Rotate the starting case so that no case always runs right after the same other one.
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + Math.max(round, 0)) % cases.length]
      const used = {}
      const ms = timeProcess(c, used)
      if (round >= 0) samples[c.name].push(ms)
      if (round >= 0 && cpu && used.ms !== undefined) cpu[c.name].push(used.ms)
    }
    onRound?.(round)
  }
  return samples
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Median and the interquartile range, which shows how noisy the machine was. */
export function summarize(values) {
  const s = [...values].sort((a, b) => a - b)
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))]
  const r = (ms) => Math.round(ms * 10) / 10
  return {runs: s.length, median: r(median(s)), p25: r(q(0.25)), p75: r(q(0.75)), min: r(s[0]), max: r(s[s.length - 1])}
}

/** The mean (CPU times come in 10 ms ticks: a median of them is a tick, a mean is not), or undefined for none. */
export function mean(values) {
  return values.length === 0 ? undefined : Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10) / 10
}

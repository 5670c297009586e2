// Where a process spends its time: one run under `node --cpu-prof`, self time summed by package
// (node_modules/<pkg>), by dappmesh's own folders, and by node internals.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

function bucket(url, root) {
  if (!url) return '(native, GC, idle)'
  if (url.startsWith('node:')) return url.startsWith('node:internal/modules') ? 'node: module loading' : 'node: other internals'
  const p = url.replace(/^file:\/\//, '')
  const nm = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(p)
  if (nm) return nm[1]
  if (p.startsWith(root)) return path.relative(root, p).split('/').slice(0, 3).join('/')
  return p
}

/** Profiles `node ARGS` once; returns the total and the top buckets and functions by self time. */
export function profile(args, {root, top = 10}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-prof-'))
  try {
    const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...args], {cwd: root, stdio: ['ignore', 'ignore', 'pipe']})
    if (run.status !== 0) return {error: `exit ${run.status}: ${String(run.stderr).slice(0, 500)}`}
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
    const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8'))
    const nodes = new Map(prof.nodes.map((n) => [n.id, n]))
    const self = new Map()
    prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)))
    const byBucket = new Map()
    const byFunction = new Map()
    for (const [id, us] of self) {
      const {callFrame} = nodes.get(id)
      const b = callFrame.functionName === '(garbage collector)' ? '(garbage collector)' : bucket(callFrame.url, root)
      byBucket.set(b, (byBucket.get(b) ?? 0) + us)
      const fn = `${callFrame.functionName || '(anonymous)'} ${bucket(callFrame.url, root)}`
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
    }
    const rank = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({name, ms: Math.round(us / 100) / 10}))
    return {totalMs: Math.round((prof.endTime - prof.startTime) / 100) / 10, byPackage: rank(byBucket), byFunction: rank(byFunction)}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

#!/usr/bin/env node
// Apply of a generated mesh of BENCH_PRODUCTS (default 100) products from scratch: `dappmesh apply`
// of every product directory in one call, against `kubectl apply --server-side -R -f` of the same
// products' `dappmesh render` output. Same objects, same real control plane (a kwok cluster this
// script starts and stops), same run. Two rounds with the order swapped, each on fresh
// namespaces; then a second (unchanged) apply of each side's last set. Writes bench/apply-results.json.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {orderCopies} from './lib/products.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cli = path.join(root, 'bin/run.js')
const PRODUCTS = Math.max(1, Number.parseInt(process.env.BENCH_PRODUCTS ?? '100', 10))
const log = (line) => process.stderr.write(`${line}\n`)
const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-bench-apply-'))
const cluster = `bench-apply-${process.pid}`
const kubeconfig = path.join(work, 'kubeconfig')

function run(command, args, options = {}) {
  const started = process.hrtime.bigint()
  const r = spawnSync(command, args, {encoding: 'utf8', maxBuffer: 1 << 28, env: {...process.env, NO_COLOR: '1'}, ...options})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (r.status !== 0) throw new Error(`${command} ${args.slice(0, 3).join(' ')} … failed (${r.status}):\n${r.stderr.slice(-2000)}`)
  return {ms, stdout: r.stdout}
}

function renderAll(dirs, set) {
  const out = path.join(work, `${set}-rendered`)
  for (const dir of dirs) run(process.execPath, [cli, 'render', dir, '--output-dir', path.join(out, path.basename(dir))])
  return out
}

const dappmesh = (dirs) => run(process.execPath, [cli, 'apply', ...dirs, '--kubeconfig', kubeconfig, '--json'])
const kubectl = (dir) => run('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--field-manager', 'kubectl-bench', '-R', '-f', dir])

try {
  log('starting a kwok cluster (cluster/up.sh)')
  run('bash', [path.join(root, 'cluster/up.sh'), cluster, kubeconfig], {stdio: ['ignore', 'ignore', 'inherit']})
  // Both sides need the CRDs; install them once, outside the timings.
  const crds = path.join(work, 'crds.yaml')
  writeFileSync(crds, run(process.execPath, [cli, 'crds']).stdout)
  run('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--field-manager', 'dappmesh', '-f', crds])
  run('kubectl', ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Established', 'crd', '-l', 'app.kubernetes.io/part-of=dappmesh', '--timeout=120s'])

  log(`generating 4 sets of ${PRODUCTS} products and rendering the kubectl ones`)
  const generate = (set) => orderCopies(root, path.join(work, set), set, PRODUCTS)
  const sets = {dm1: generate('dm1'), kc1: generate('kc1'), dm2: generate('dm2'), kc2: generate('kc2')}
  const rendered = {kc1: renderAll(sets.kc1, 'kc1'), kc2: renderAll(sets.kc2, 'kc2')}
  const objects = JSON.parse(run(process.execPath, [cli, 'render', sets.dm1[0], '--json']).stdout).items.length

  const times = {dappmesh: [], kubectl: []}
  log('round 1: kubectl, then dappmesh')
  times.kubectl.push(kubectl(rendered.kc1).ms)
  times.dappmesh.push(dappmesh(sets.dm1).ms)
  log('round 2: dappmesh, then kubectl')
  times.dappmesh.push(dappmesh(sets.dm2).ms)
  times.kubectl.push(kubectl(rendered.kc2).ms)
  log('unchanged: a second apply of the last sets')
  const again = {dappmesh: dappmesh(sets.dm2), kubectl: kubectl(rendered.kc2)}
  const unchanged = JSON.parse(again.dappmesh.stdout).products.every((p) => p.objects.every((o) => o.action === 'unchanged'))

  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
  const result = {
    products: PRODUCTS,
    objectsPerProduct: objects,
    objects: PRODUCTS * objects,
    fromScratchMs: {dappmesh: times.dappmesh.map(Math.round), kubectl: times.kubectl.map(Math.round)},
    fromScratchMeanMs: {dappmesh: Math.round(mean(times.dappmesh)), kubectl: Math.round(mean(times.kubectl))},
    ratioDappmeshToKubectl: Math.round((mean(times.dappmesh) / mean(times.kubectl)) * 100) / 100,
    unchangedMs: {dappmesh: Math.round(again.dappmesh.ms), kubectl: Math.round(again.kubectl.ms)},
    dappmeshSecondApplyAllUnchanged: unchanged,
    goal: 'dappmesh at most 0.5x kubectl wall time',
  }
  writeFileSync(path.join(root, 'bench/apply-results.json'), JSON.stringify(result, null, 2) + '\n')
  console.log(`apply of ${PRODUCTS} products (${result.objects} objects) from scratch, mean of 2 rounds:`)
  console.log(`  dappmesh apply (one call)          ${result.fromScratchMeanMs.dappmesh} ms  ${JSON.stringify(result.fromScratchMs.dappmesh)}`)
  console.log(`  kubectl apply --server-side -R -f  ${result.fromScratchMeanMs.kubectl} ms  ${JSON.stringify(result.fromScratchMs.kubectl)}`)
  console.log(`  ratio dappmesh/kubectl             ${result.ratioDappmeshToKubectl} (goal <= 0.5)`)
  console.log(`  second apply, unchanged: dappmesh ${result.unchangedMs.dappmesh} ms (all unchanged: ${unchanged}), kubectl ${result.unchangedMs.kubectl} ms`)
} finally {
  spawnSync('bash', [path.join(root, 'cluster/down.sh'), cluster], {stdio: ['ignore', 'ignore', 'inherit']})
  rmSync(work, {recursive: true, force: true})
}

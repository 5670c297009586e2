import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {ROOT} from '../helpers/cli.js'

/**
 * The package as users get it: `npm pack` of the built tree, installed globally into a temporary
 * prefix (dependencies from npm's cache when it has them), then run from there, far from this
 * checkout. Starting a cluster is left to the integration tests; here the kwok scripts must be
 * inside the installed package, where `cluster create --provider kwok` looks for them.
 */
describe('the installed package', function () {
  this.timeout(300_000)
  let tmp: string
  let bin: string
  let installed: string

  before(function () {
    if (!existsSync(path.join(ROOT, 'dist', 'index.js')) && !existsSync(path.join(ROOT, 'dist', 'commands'))) this.skip() // npm run build first
    tmp = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-pkg-'))
    const tarball = execFileSync('npm', ['pack', '--pack-destination', tmp, '--silent'], {cwd: ROOT, encoding: 'utf8'}).trim().split('\n').at(-1)!
    const prefix = path.join(tmp, 'prefix')
    execFileSync('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', path.join(tmp, tarball)], {cwd: tmp, stdio: ['ignore', 'ignore', 'inherit']})
    bin = path.join(prefix, 'bin', 'dappmesh')
    installed = path.join(prefix, 'lib', 'node_modules', 'dappmesh')
  })
  after(() => {
    if (tmp) rmSync(tmp, {recursive: true, force: true})
  })

  const run = (args: string[]) => spawnSync(bin, args, {cwd: tmp, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})

  it('answers --version', () => {
    const r = run(['--version'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^dappmesh\/\d+\.\d+\.\d+ /)
  })

  it('scaffolds a project that it then validates', () => {
    const dir = path.join(tmp, 'shop')
    const init = run(['init', dir, '--domain', 'sales', '--owner', 'team@example.com'])
    assert.equal(init.status, 0, init.stderr)
    const r = run(['validate', dir])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /✔ valid/)
  })

  it('suggests the closest command for a typo (its command_not_found hook is shipped)', () => {
    const r = run(['valdate'])
    assert.equal(r.status, 2)
    assert.match(r.stderr, /did you mean "dappmesh validate"/)
  })

  it('ships the cluster scripts (kwok and the real node) where cluster create looks for them', async () => {
    const {clusterScriptsDir} = (await import(pathToFileURL(path.join(installed, 'dist', 'core', 'cluster', 'binaries.js')).href)) as {clusterScriptsDir: string}
    assert.ok(clusterScriptsDir.startsWith(installed), `${clusterScriptsDir} is outside the installed package`)
    assert.deepEqual(readdirSync(clusterScriptsDir).filter((f) => /\.(sh|mod|sum)$/.test(f)).sort(), [
      'build-node.sh', 'build.sh', 'down.sh', 'go.mod', 'go.sum', 'kwokctl-config.sh', 'lib.sh', 'local-check.sh', 'local-down.sh', 'local-up.sh', 'registry.sh', 'up.sh', 'versions.sh',
    ])
    // build-node.sh builds the node's CoreDNS and pause programs from these sources.
    for (const source of ['coredns/main.go', 'coredns/go.mod', 'pause/main.go', 'pause/go.mod']) assert.ok(existsSync(path.join(clusterScriptsDir, source)), `${source} is not shipped`)
    const printed = spawnSync('bash', [path.join(clusterScriptsDir, 'build.sh'), '--print-dir'], {encoding: 'utf8'})
    assert.equal(printed.status, 0, printed.stderr)
    assert.match(printed.stdout, /kube-v[\d.]+_etcd-v[\d.]+_kwok-v[\d.]+/)
  })
})

import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {cli, flat, ROOT, STACK_TRACE} from '../helpers/cli.js'

const CHECK = path.join(ROOT, 'cluster/local-check.sh')

/** A PATH holding only these tools (links to the machine's), so a test can take one away. */
function pathWith(tools: string[]): {dir: string; missing: string[]} {
  const dir = mkdtempSync(path.join(tmpdir(), 'dappmesh-path-'))
  const missing: string[] = []
  for (const tool of tools) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], {encoding: 'utf8'}).stdout.trim()
    if (found) symlinkSync(found, path.join(dir, tool))
    else missing.push(tool)
  }
  return {dir, missing}
}

const TOOLS = ['bash', 'id', 'ip', 'iptables', 'setsid', 'curl', 'docker-registry', 'runc']

describe('cluster create --provider local: what the machine lacks', function () {
  let bin: {dir: string; missing: string[]}

  before(function () {
    bin = pathWith(TOOLS.filter((tool) => tool !== 'runc'))
    if (bin.missing.length > 0) this.skip() // the machine itself lacks them: nothing to take away
  })

  after(() => rmSync(bin.dir, {recursive: true, force: true}))

  it('exits 2 naming runc and the package that has it, when runc is not on PATH', function () {
    const r = spawnSync('bash', [CHECK], {encoding: 'utf8', env: {PATH: bin.dir}})
    assert.equal(r.status, 2)
    assert.match(r.stderr, /runc \(apt-get install runc\)/)
  })

  it('exits 2 naming root when not run as root', function () {
    if (spawnSync('sh', ['-c', 'command -v setpriv']).status !== 0) this.skip()
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', CHECK], {encoding: 'utf8'})
    assert.equal(r.status, 2)
    assert.match(r.stderr, /root: a real node creates network interfaces/)
  })

  it('makes `cluster create --provider local` exit 2 with that list and no stack, before starting anything', function () {
    const r = cli(['cluster', 'create', '--provider', 'local', '--name', 'never-made', '--kubeconfig', path.join(bin.dir, 'kubeconfig')], {env: {PATH: bin.dir}})
    assert.equal(r.code, 2, r.stderr)
    assert.match(flat(r.stderr), /runc \(apt-get install runc\)/)
    assert.match(flat(r.stderr), /--provider kwok/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })
})

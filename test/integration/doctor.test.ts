import assert from 'node:assert/strict'
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {SCHEMA_HASH_ANNOTATION, generateCrds} from '../../src/core/crds/generate.js'
import {doctorReportSchema} from '../../src/core/doctor/result-schema.js'
import {installCrds} from '../../src/core/kube/crds-install.js'
import {loadKubeConfig} from '../../src/core/kube/kubeconfig.js'
import {KubeRest} from '../../src/core/kube/rest.js'
import {compile} from '../../src/core/validate/ajv.js'
import {cli} from '../helpers/cli.js'
import {requireCluster} from '../helpers/cluster.js'

describe('doctor against the test cluster', () => {
  let kubeconfig: string
  let dir: string
  let env: NodeJS.ProcessEnv

  before(async function () {
    kubeconfig = await requireCluster(this)
    dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-doctor-'))
    // A builder on PATH, so the builders check does not depend on what this machine has installed.
    await writeFile(path.join(dir, 'buildah'), '#!/bin/sh\nexit 0\n')
    await chmod(path.join(dir, 'buildah'), 0o755)
    env = {PATH: `${dir}${path.delimiter}${process.env.PATH}`}
    await installCrds(await loadKubeConfig({kubeconfig}), generateCrds(), {timeoutMs: 60_000})
  })

  after(async () => {
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  it('passes with exit 0, naming the server, when the CRDs are current; a stopped operator is only a warning', async () => {
    const result = cli(['doctor', '--kubeconfig', kubeconfig, '--json'], {env})
    assert.equal(result.code, 0, result.stdout + result.stderr)
    const report = JSON.parse(result.stdout)
    const valid = compile(doctorReportSchema)
    assert.equal(valid(report), true, JSON.stringify(valid.errors))
    assert.equal(report.ok, true)
    assert.deepEqual(report.checks.map((check: any) => check.id), ['node', 'kube-context', 'crds', 'operator', 'builders'])
    const byId = Object.fromEntries(report.checks.map((check: any) => [check.id, check]))
    const {server} = await loadKubeConfig({kubeconfig})
    assert.equal(byId['kube-context'].status, 'pass')
    assert.ok(byId['kube-context'].message.includes(server), byId['kube-context'].message)
    assert.match(byId['kube-context'].message, /Kubernetes v1\.36\.3/)
    assert.equal(byId.crds.status, 'pass')
    assert.ok(['pass', 'warn'].includes(byId.operator.status))
    if (byId.operator.status === 'warn') assert.match(byId.operator.fix, /dappmesh operator install/)
    assert.match(byId.builders.message, /buildah/)
  })

  it('fails with exit 1 and says how to upgrade when a CRD is outdated', async function () {
    this.timeout(120_000)
    const loaded = await loadKubeConfig({kubeconfig})
    const crds = generateCrds()
    const target = crds[0].metadata.name
    const rest = await KubeRest.create(loaded)
    await rest
      .request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${target}`, {
        body: {metadata: {annotations: {[SCHEMA_HASH_ANNOTATION]: 'stale'}}},
        contentType: 'application/merge-patch+json',
        query: {fieldManager: 'dappmesh-test'},
      })
      .finally(() => rest.close())
    try {
      const result = cli(['doctor', '--kubeconfig', kubeconfig], {env})
      assert.equal(result.code, 1, result.stdout + result.stderr)
      assert.match(result.stdout, new RegExp(`\\[FAIL\\] dappmesh CRDs: 1 of ${crds.length} CRDs are not current; outdated \\(schema hash differs from this dappmesh\\): ${target.replaceAll('.', '\\.')}`))
      assert.match(result.stdout, /fix: install or upgrade them: dappmesh crds \| kubectl apply --server-side/)
    } finally {
      await installCrds(loaded, crds, {timeoutMs: 60_000})
    }
  })

  it('exits 3 naming the contexts when --context is not in the kubeconfig', () => {
    const result = cli(['doctor', '--kubeconfig', kubeconfig, '--context', 'nope'], {env})
    assert.equal(result.code, 3)
    assert.match(result.stdout, /\[FAIL\] Kubernetes context: the context "nope" is not in the kubeconfig/)
    assert.match(result.stdout, /use one of: kwok-dappmesh-test-/)
  })
})

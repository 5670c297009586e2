import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {cli, flat} from '../helpers/cli.js'
import {productsOnCluster} from '../helpers/product.js'

/**
 * The mesh and its domains belong to the platform project (`dappmesh init mesh`): a product's
 * apply creates them when missing and never changes them; only the platform project does.
 */
describe('shared objects owned once: the platform project (real control plane)', function () {
  this.timeout(300_000)
  const cluster = productsOnCluster('plat')
  const id = randomBytes(3).toString('hex')
  const mesh = `plat-${id}`
  const work = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-platform-'))
  const platform = path.join(work, 'platform')
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, ...args], {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']})
  const json = (...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json'))
  const editFile = (file: string, change: (t: string) => string) => {
    const before = readFileSync(file, 'utf8')
    const after = change(before)
    assert.notEqual(after, before, `edit of ${file} changed nothing`)
    writeFileSync(file, after)
  }
  let domain = ''

  after(() => {
    try {
      kubectl('delete', 'datamesh', mesh, '--ignore-not-found')
      kubectl('delete', 'clusterrole,clusterrolebinding', `plat-author-${id}`, '--ignore-not-found')
    } catch {
      // the cluster goes away at the end of the run anyway
    }
    rmSync(work, {recursive: true, force: true})
  })

  /** A product of its own domain in mesh `mesh` (the first test makes the platform's domain from one). */
  const product = () => {
    const p = cluster.fresh()
    p.edit('mesh/cluster.yaml', (t) => t.replace('name: acme', `name: ${mesh}`))
    p.edit('mesh/domain.yaml', (t) => t.replace('mesh: acme', `mesh: ${mesh}`))
    return p
  }
  /** A product of the platform's domain, carrying the platform's mesh and domain as its copies. */
  const productOfPlatform = (name: string) => {
    const p = product()
    p.edit('dappmesh.yaml', (t) => t.replace(`domain: ${p.domain}`, `domain: ${domain}`).replace('name: orders', `name: ${name}`))
    p.edit('mesh/roles.yaml', (t) => t.replaceAll(p.namespace, domain))
    writeFileSync(path.join(p.dir, 'mesh/cluster.yaml'), readFileSync(path.join(platform, 'mesh.yaml')))
    writeFileSync(path.join(p.dir, 'mesh/domain.yaml'), readFileSync(path.join(platform, 'domains', `${domain}.yaml`)))
    return p
  }

  it('init mesh writes a platform project that validates, and applying it creates the mesh, the domain and its namespace', () => {
    domain = product().domain
    const init = cli(['init', 'mesh', platform, '--mesh', mesh, '--domain', domain, '--owner', 'platform@example.com'])
    assert.equal(init.code, 0, init.stderr)
    assert.equal(cli(['validate', platform]).code, 0)
    const applied = cli(['apply', platform, '--kubeconfig', cluster.kubeconfig, '--json'])
    assert.equal(applied.code, 0, applied.stderr)
    const result = JSON.parse(applied.stdout)
    assert.equal(result.platform, true)
    assert.deepEqual(result.objects.map((o: any) => `${o.kind}/${o.name} ${o.action}`).sort(), [`DataDomain/${domain} created`, `DataMesh/${mesh} created`, `Namespace/${domain} created`])
    assert.equal(json('get', 'datamesh', mesh).spec.governance.requireContracts, true)
  })

  it('never changes the mesh from a product whose copy differs (requireContracts: false), and says so', () => {
    const before = json('get', 'datamesh', mesh)
    const p = productOfPlatform('orders')
    p.edit('mesh/cluster.yaml', (t) => t.replace('requireContracts: true', 'requireContracts: false'))
    p.edit('mesh/domain.yaml', (t) => t.replace('owner: platform@example.com', 'owner: someone-else@example.com'))
    const applied = cli(['apply', p.dir, '--kubeconfig', cluster.kubeconfig])
    assert.equal(applied.code, 0, applied.stderr)
    const said = flat(applied.stderr)
    assert.match(said, new RegExp(`DataMesh ${mesh} in the cluster differs from this project's copy \\(spec\\.governance\\.requireContracts\\): left as it is; a product never changes its mesh or domain`))
    assert.match(said, new RegExp(`DataDomain ${domain} in the cluster differs from this project's copy \\(spec\\.owner\\)`))
    const after = json('get', 'datamesh', mesh)
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion)
    assert.equal(after.spec.governance.requireContracts, true)
    assert.equal(json('get', 'datadomain', domain).spec.owner, 'platform@example.com')
  })

  it('lets a product author who may not write the mesh, the domain or namespaces apply a product of the domain', () => {
    // An author: every dappmesh kind in the domain's namespace, and read access to the shared kinds.
    const author = `plat-author-${id}`
    kubectl('create', 'serviceaccount', author, '-n', domain)
    kubectl('create', 'role', author, '-n', domain, '--verb=*', '--resource=dataproducts.dappmesh.io,datastorages.dappmesh.io,dataschemas.dappmesh.io,datacontracts.dappmesh.io,dataflows.dappmesh.io,dataworkflows.dappmesh.io,inputports.dappmesh.io,outputports.dappmesh.io,dataroles.dappmesh.io')
    kubectl('create', 'rolebinding', author, '-n', domain, `--role=${author}`, `--serviceaccount=${domain}:${author}`)
    // What the example's DataRoles grant (a DataRole may grant only what its author could): a
    // storage grant hands out a database user's Secret, so she may read Secrets.
    kubectl('create', 'role', `${author}-reader`, '-n', domain, '--verb=get', '--resource=services,configmaps,secrets,statefulsets.apps,deployments.apps')
    kubectl('create', 'rolebinding', `${author}-reader`, '-n', domain, `--role=${author}-reader`, `--serviceaccount=${domain}:${author}`)
    kubectl('create', 'clusterrole', author, '--verb=get,list', '--resource=datameshes.dappmesh.io,datadomains.dappmesh.io,customresourcedefinitions.apiextensions.k8s.io,validatingadmissionpolicies.admissionregistration.k8s.io,validatingadmissionpolicybindings.admissionregistration.k8s.io')
    kubectl('create', 'clusterrolebinding', author, `--clusterrole=${author}`, `--serviceaccount=${domain}:${author}`)
    const as = ['--as', `system:serviceaccount:${domain}:${author}`]
    assert.equal(spawnSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'auth', 'can-i', 'patch', `datameshes.dappmesh.io/${mesh}`, ...as]).status, 1, 'the author may not change the mesh')
    const token = kubectl('create', 'token', author, '-n', domain, '--duration', '1h').trim()
    const view = JSON.parse(kubectl('config', 'view', '--raw', '--minify', '--flatten', '-o', 'json'))
    const kubeconfig = path.join(work, 'author.kubeconfig')
    writeFileSync(kubeconfig, JSON.stringify({apiVersion: 'v1', kind: 'Config', clusters: [{name: 'c', cluster: view.clusters[0].cluster}], users: [{name: 'a', user: {token}}], contexts: [{name: 'a', context: {cluster: 'c', user: 'a'}}], 'current-context': 'a'}))

    const p = productOfPlatform('returns')
    const applied = cli(['apply', p.dir, '--kubeconfig', kubeconfig, '--no-install-crds'])
    assert.equal(applied.code, 0, applied.stderr)
    assert.doesNotMatch(flat(applied.stderr), /differs from this project's copy/)
    assert.equal(json('get', 'dataproduct', 'returns', '-n', domain).metadata.name, 'returns')
    // The same name as the product applied before, in the same namespace: each has its own.
    assert.equal(json('get', 'datastorage', 'returns.operational', '-n', domain).metadata.labels['dappmesh.io/product'], 'returns')
    assert.equal(json('get', 'datastorage', 'orders.operational', '-n', domain).metadata.labels['dappmesh.io/product'], 'orders')
  })

  it('changes the mesh only when the platform project is applied', () => {
    editFile(path.join(platform, 'mesh.yaml'), (t) => t.replace('requireContracts: true', 'requireContracts: false'))
    const applied = cli(['apply', platform, '--kubeconfig', cluster.kubeconfig, '--json'])
    assert.equal(applied.code, 0, applied.stderr)
    assert.ok(JSON.parse(applied.stdout).objects.some((o: any) => o.kind === 'DataMesh' && o.action === 'configured'))
    assert.equal(json('get', 'datamesh', mesh).spec.governance.requireContracts, false)
  })
})

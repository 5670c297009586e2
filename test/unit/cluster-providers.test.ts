import assert from 'node:assert/strict'
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {parse} from 'yaml'

import {ensureBinaries, pinnedVersions} from '../../src/core/cluster/binaries.js'
import {checkClusterName, createCluster} from '../../src/core/cluster/create.js'
import {KindProvider, kindConfig, kindConfigYaml, kindCreateArgs, kindDeleteArgs, kindExportKubeconfigArgs} from '../../src/core/cluster/kind-provider.js'
import {KwokProvider} from '../../src/core/cluster/kwok-provider.js'
import {detectProvider} from '../../src/core/cluster/provider.js'
import {UserError} from '../../src/core/errors.js'

/** A directory to use as PATH, holding only the given executables (shell scripts). */
async function fakePath(dir: string, scripts: Record<string, string>): Promise<string> {
  for (const [name, body] of Object.entries(scripts)) {
    const file = path.join(dir, name)
    // The fake sees the usual system tools; only the lookup of the tool itself uses the bare PATH.
    await writeFile(file, `#!/bin/sh\nPATH="$PATH:/usr/bin:/bin"\n${body}\n`)
    await chmod(file, 0o755)
  }
  return dir
}

describe('cluster providers', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-unit-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  describe('kind', () => {
    it('generates a one-node cluster config that binds the API server to loopback', () => {
      const config = kindConfig('dev')
      assert.deepEqual(config, {
        kind: 'Cluster',
        apiVersion: 'kind.x-k8s.io/v1alpha4',
        name: 'dev',
        networking: {apiServerAddress: '127.0.0.1'},
        nodes: [{role: 'control-plane', labels: {'dappmesh.io/cluster': 'dev'}}],
      })
      assert.deepEqual(parse(kindConfigYaml('dev')), config)
    })

    it('builds kind create, export and delete as argument arrays', () => {
      assert.deepEqual(kindCreateArgs('dev', '/tmp/k.yaml', '/tmp/kc', 90_500), ['create', 'cluster', '--name', 'dev', '--config', '/tmp/k.yaml', '--kubeconfig', '/tmp/kc', '--wait', '91s'])
      assert.deepEqual(kindExportKubeconfigArgs('dev', '/tmp/kc'), ['export', 'kubeconfig', '--name', 'dev', '--kubeconfig', '/tmp/kc'])
      assert.deepEqual(kindDeleteArgs('dev'), ['delete', 'cluster', '--name', 'dev'])
    })

    it('says how to install kind when it is not on PATH', async () => {
      const provider = new KindProvider({PATH: dir})
      await assert.rejects(provider.checkTools(), (error: unknown) => {
        assert.ok(error instanceof UserError)
        assert.equal(error.exit, 1)
        assert.match(error.message, /needs `kind`, which is not on PATH/)
        assert.ok(error.suggestions.some((s) => /go install sigs\.k8s\.io\/kind/.test(s)))
        assert.ok(error.suggestions.some((s) => /--provider kwok/.test(s)))
        return true
      })
    })

    it('says how to install Docker when kind is there but docker is not', async () => {
      const provider = new KindProvider({PATH: await fakePath(dir, {kind: 'exit 0'})})
      await assert.rejects(provider.checkTools(), (error: unknown) => {
        assert.ok(error instanceof UserError)
        assert.match(error.message, /needs Docker, and `docker` is not on PATH/)
        assert.ok(error.suggestions.some((s) => /install Docker Engine/.test(s)))
        return true
      })
    })

    it('says to start Docker when `docker info` gets no answer', async () => {
      const provider = new KindProvider({PATH: await fakePath(dir, {kind: 'exit 0', docker: 'echo "Cannot connect to the Docker daemon" >&2; exit 1'})})
      await assert.rejects(provider.checkTools(), /needs a running Docker engine/)
    })

    it('runs kind create with the generated config, then exports the kubeconfig', async () => {
      const log = path.join(dir, 'calls.log')
      const kubeconfig = 'apiVersion: v1\nkind: Config\nclusters: [{name: kind-dev, cluster: {server: "https://127.0.0.1:6443"}}]\nusers: [{name: kind-dev, user: {token: t}}]\ncontexts: [{name: kind-dev, context: {cluster: kind-dev, user: kind-dev}}]\ncurrent-context: kind-dev\n'
      // The fake kind records its arguments and the config file it was given, and writes a kubeconfig where --kubeconfig says.
      const kind = `echo "$@" >> ${log}
if [ "$1" = create ]; then cat "$6" >> ${log}; fi
while [ $# -gt 0 ]; do if [ "$1" = --kubeconfig ]; then printf '%s' '${kubeconfig}' > "$2"; fi; shift; done`
      const bin = await fakePath(dir, {kind, docker: 'echo 27.0.0'})
      const provided = await new KindProvider({PATH: bin}).create({name: 'dev', waitMs: 60_000})
      const {readFile} = await import('node:fs/promises')
      const calls = (await readFile(log, 'utf8')).split('\n')
      assert.match(calls[0], /^create cluster --name dev --config \S+kind\.yaml --kubeconfig \S+ --wait 60s$/)
      assert.deepEqual(parse(calls.slice(1, -2).join('\n')), kindConfig('dev'))
      assert.match(calls.at(-2)!, /^export kubeconfig --name dev --kubeconfig \S+$/)
      assert.equal(parse(provided.kubeconfigYaml)['current-context'], 'kind-dev')
    })
  })

  describe('kwok', () => {
    it('needs bash for its scripts, and says so when it is missing', async () => {
      await assert.rejects(new KwokProvider({PATH: dir}).checkTools(), (error: unknown) => {
        assert.ok(error instanceof UserError)
        assert.match(error.message, /needs `bash`/)
        return true
      })
    })

    it('asks for Go when the control-plane binaries are not cached and go is not on PATH', async () => {
      await assert.rejects(ensureBinaries({env: {PATH: dir, DAPPMESH_CACHE: dir}}), (error: unknown) => {
        assert.ok(error instanceof UserError)
        assert.match(error.message, /builds kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd, kwok, kwokctl from source on first use, and Go is not on PATH/)
        assert.ok(error.suggestions.some((s) => /install Go 1\.26/.test(s)))
        return true
      })
    })

    it('reads the pinned versions from cluster/versions.sh', () => {
      assert.deepEqual(pinnedVersions(), {kube: 'v1.36.3', etcd: 'v3.6.8', kwok: 'v0.8.0'})
    })

    it('lists no cluster when its workdir is empty', async () => {
      assert.deepEqual(await new KwokProvider({PATH: dir, DAPPMESH_KWOK_WORKDIR: path.join(dir, 'kwok')}).list(), [])
    })
  })

  it('picks kwok when no Docker engine answers', async () => {
    assert.equal(await detectProvider({PATH: dir}), 'kwok')
    assert.equal(await detectProvider({PATH: await fakePath(dir, {docker: 'exit 1'})}), 'kwok')
  })

  it('picks kind when `docker info` answers', async () => {
    assert.equal(await detectProvider({PATH: await fakePath(dir, {docker: 'echo 27.0.0'})}), 'kind')
  })

  it('refuses a cluster name that is not a DNS label before doing anything', async () => {
    assert.throws(() => checkClusterName('Dev_1'), /"Dev_1" is not a valid cluster name/)
    await assert.rejects(createCluster({name: 'Bad Name', provider: 'kind', waitMs: 1000, env: {PATH: dir}}), /not a valid cluster name/)
  })
})

import assert from 'node:assert/strict'
import {appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {compile} from '../../src/core/validate/ajv.js'
import {buildResultSchema} from '../../src/core/build/result-schema.js'
import {STACK_TRACE, cli, flat} from '../helpers/cli.js'
import {giveImage} from '../helpers/entity-image.js'
import {type Server, buildah, freePort, isStaticBusybox, makeBaseImage, missingTools, registryDigest, startPodmanService, startRegistry, storageEnv} from '../helpers/images.js'

const BASE = 'localhost/dappmesh-test-base:1'

/** A product scaffolded by `dappmesh init` with entities orders and customers, each bringing its own image. */
function scaffold(parent: string, name = 'shop'): string {
  const dir = path.join(parent, name)
  const r = cli(['init', dir, '--name', name, '--domain', 'sales', '--owner', 'team@example.com', '--entity', 'orders', '--entity', 'customers', '--yes'])
  assert.equal(r.code, 0, r.stderr)
  for (const entity of ['orders', 'customers']) giveImage(dir, entity)
  return dir
}

function images(dir: string): Record<string, any> {
  return JSON.parse(readFileSync(path.join(dir, '.dappmesh/images.json'), 'utf8')).images
}

function byEntity(stdout: string): Record<string, any> {
  const check = compile(buildResultSchema)
  assert.ok(check(JSON.parse(stdout)), JSON.stringify(check.errors))
  const result = JSON.parse(stdout)
  return Object.fromEntries(result.images.map((i: any) => [i.entity, i]))
}

describe('dappmesh build (real buildah, a real registry)', function () {
  this.timeout(300_000)
  let tmp: string
  let env: Record<string, string>
  let registry: Server | undefined
  let port: number
  let dir: string

  before(async function () {
    const missing = missingTools(['buildah', 'docker-registry', 'skopeo'])
    if (missing.length > 0 || !isStaticBusybox()) {
      // CI installs these with scripts/install-system-deps.sh; skip only where they cannot be had.
      const what = [...missing, ...(isStaticBusybox() ? [] : ['a static /bin/busybox (busybox-static)'])].join(', ')
      process.stderr.write(`skipping the build integration tests: missing ${what}; run scripts/install-system-deps.sh as root\n`)
      this.skip()
    }
    tmp = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-build-'))
    env = storageEnv(path.join(tmp, 'storage'))
    makeBaseImage(env, BASE)
    port = await freePort()
    registry = await startRegistry(path.join(tmp, 'registry'), port)
    dir = scaffold(tmp)
    // orders: a RUN step on the test's own base image; customers keeps the FROM scratch one.
    writeFileSync(path.join(dir, 'services/orders/Containerfile'), `FROM ${BASE}\nRUN echo built-by-run > /built && test -s /built\nCOPY server.sh /server.sh\n`)
  })

  after(async () => {
    await registry?.stop()
    if (tmp) rmSync(tmp, {recursive: true, force: true})
  })

  const push = () => ['build', dir, '--builder', 'buildah', '--push', '--registry', `127.0.0.1:${port}/sales`, '--insecure-registry', '--json']

  it('builds each entity, pushes it, and records the digest the registry serves', () => {
    const r = cli(push(), {env})
    assert.equal(r.code, 0, r.stderr)
    const out = byEntity(r.stdout)
    const recorded = images(dir)
    for (const entity of ['orders', 'customers']) {
      assert.equal(out[entity].status, 'pushed', entity)
      assert.match(out[entity].image, new RegExp(`^127\\.0\\.0\\.1:${port}/sales/shop-${entity}:[0-9a-f]{12}$`))
      const served = registryDigest(out[entity].image)
      assert.equal(recorded[entity].digest, served, `${entity}: images.json holds the registry's digest`)
      assert.equal(out[entity].digest, served)
      assert.equal(recorded[entity].builder, 'buildah')
    }
    assert.match(r.stderr, /orders: pushed 127\.0\.0\.1:\d+\/sales\/shop-orders@sha256:/)
  })

  it('makes render pin each port by the pushed digest', () => {
    const r = cli(['render', dir, '-o', 'json'])
    assert.equal(r.code, 0, r.stderr)
    const ports = JSON.parse(r.stdout).items.filter((m: any) => m.kind === 'OutputPort' && m.spec.service)
    assert.ok(ports.length > 0)
    for (const p of ports) assert.equal(p.spec.service.image, `${images(dir)[p.spec.entity].repository}@${images(dir)[p.spec.entity].digest}`)
  })

  it('a second build changes nothing: every image is unchanged', () => {
    const before = readFileSync(path.join(dir, '.dappmesh/images.json'), 'utf8')
    const r = cli(push(), {env})
    assert.equal(r.code, 0, r.stderr)
    const out = byEntity(r.stdout)
    assert.equal(out.orders.status, 'unchanged')
    assert.equal(out.customers.status, 'unchanged')
    assert.equal(out.orders.digest, images(dir).orders.digest)
    assert.equal(readFileSync(path.join(dir, '.dappmesh/images.json'), 'utf8'), before)
  })

  it('a changed file rebuilds only its entity, under a new tag', () => {
    const old = images(dir)
    appendFileSync(path.join(dir, 'services/customers/server.sh'), 'echo changed\n')
    const r = cli(push(), {env})
    assert.equal(r.code, 0, r.stderr)
    const out = byEntity(r.stdout)
    assert.equal(out.orders.status, 'unchanged')
    assert.equal(out.customers.status, 'pushed')
    assert.notEqual(out.customers.tag, old.customers.tag)
    assert.notEqual(out.customers.digest, old.customers.digest)
    assert.equal(images(dir).customers.digest, registryDigest(out.customers.image))
    assert.deepEqual(images(dir).orders, old.orders)
  })

  it('an ignored file does not count: editing it leaves the entity unchanged', () => {
    writeFileSync(path.join(dir, 'services/orders/.containerignore'), 'notes.txt\n')
    cli(push(), {env}) // the ignore file itself is part of the context
    writeFileSync(path.join(dir, 'services/orders/notes.txt'), 'scratch notes\n')
    const r = cli(push(), {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(byEntity(r.stdout).orders.status, 'unchanged')
  })

  it('a rebuilt base image rebuilds the entities built FROM it, under a new tag; the others stay', () => {
    const old = images(dir)
    // The same name, a new image: its ID changes though no file of the product does.
    const c = buildah(env, ['from', BASE])
    try {
      buildah(env, ['config', '--label', 'rebuilt=yes', c])
      buildah(env, ['commit', c, BASE])
    } finally {
      buildah(env, ['rm', c])
    }
    const r = cli(push(), {env})
    assert.equal(r.code, 0, r.stderr)
    const out = byEntity(r.stdout)
    assert.equal(out.orders.status, 'pushed')
    assert.notEqual(out.orders.tag, old.orders.tag)
    assert.equal(out.customers.status, 'unchanged', 'customers is built FROM scratch')
    const again = byEntity(cli(push(), {env}).stdout)
    assert.equal(again.orders.status, 'unchanged', 'and then it is up to date again')
  })

  it('without --push builds into local storage only: built, no digest, then unchanged', () => {
    const local = scaffold(tmp, 'local')
    const r = cli(['build', local, '--builder', 'buildah', '--json', '--concurrency', '1', '--verbose'], {env})
    assert.equal(r.code, 0, r.stderr)
    // One at a time, in entity order; the builder's own output streamed under --verbose.
    const steps = r.stderr.split('\n').filter((l) => /^\w+: (building|built)/.test(l)).map((l) => l.split(' ').slice(0, 2).join(' '))
    assert.deepEqual(steps, ['customers: building', 'customers: built', 'orders: building', 'orders: built'])
    assert.match(r.stderr, /^orders \| STEP 2\/2: COPY server\.sh \/server\.sh$/m)
    const out = byEntity(r.stdout)
    assert.equal(out.orders.status, 'built')
    assert.equal(out.orders.digest, null)
    assert.match(out.orders.image, /^local-orders:[0-9a-f]{12}$/)
    assert.equal(images(local).orders.digest, undefined)
    assert.ok(buildah(env, ['inspect', '--type', 'image', out.orders.image]).length > 0)
    assert.equal(byEntity(cli(['build', local, '--builder', 'buildah', '--json'], {env}).stdout).orders.status, 'unchanged')
    // --tag replaces the digest tag: a new reference, so a build.
    const tagged = byEntity(cli(['build', local, '--builder', 'buildah', '--json', '--tag', 'v1'], {env}).stdout)
    assert.equal(tagged.orders.image, 'local-orders:v1')
    assert.equal(tagged.orders.status, 'built')
    assert.equal(images(local).orders.tag, 'v1')
  })

  it('--load: saves a docker archive and hands it to kind load image-archive for the named cluster', () => {
    const product = scaffold(tmp, 'loaded')
    const bin = path.join(tmp, 'kind-bin')
    mkdirSync(bin, {recursive: true})
    // kind itself needs Docker, which this machine lacks: a stand-in records what it was asked and checks the archive.
    const calls = path.join(tmp, 'kind-calls')
    writeFileSync(path.join(bin, 'kind'), `#!/bin/sh\necho "$@" >> ${calls}\ntest -s "$3" && tar -tf "$3" | grep -q manifest.json\n`, {mode: 0o755})
    const r = cli(['build', product, '--builder', 'buildah', '--load', '--kind-cluster', 'dev', '--json'], {env: {...env, PATH: `${bin}:${process.env.PATH}`}})
    assert.equal(r.code, 0, r.stderr)
    const lines = readFileSync(calls, 'utf8').trim().split('\n').sort()
    assert.equal(lines.length, 2)
    for (const [i, entity] of ['customers', 'orders'].entries()) assert.match(lines[i], new RegExp(`^load image-archive /\\S+/${entity}\\.tar --name dev$`))
    assert.match(r.stderr, /loading loaded-orders:[0-9a-f]{12} into kind cluster dev/)
  })

  it('--load without kind on PATH: exit 1, saying to install kind', () => {
    const product = scaffold(tmp, 'nokind')
    const pathWithoutKind = (process.env.PATH ?? '').split(':').filter((d) => !existsSync(path.join(d, 'kind'))).join(':')
    const r = cli(['build', product, '--builder', 'buildah', '--load'], {env: {...env, PATH: pathWithoutKind}})
    assert.equal(r.code, 1, r.stderr)
    assert.match(flat(r.stderr), /into kind cluster dappmesh failed \(kind is not on PATH: install kind to use --load\)/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })

  it('a failing RUN: exit 1, the entity named with the builder\'s last lines; the other entity still builds', () => {
    const bad = scaffold(tmp, 'bad')
    writeFileSync(path.join(bad, 'services/orders/Containerfile'), `FROM ${BASE}\nRUN for i in $(seq 1 40); do echo compile-step-$i; done && echo marker-before-failure >&2 && exit 3\n`)
    const r = cli(['build', bad, '--builder', 'buildah'], {env})
    assert.equal(r.code, 1, r.stdout + r.stderr)
    const err = flat(r.stderr)
    assert.match(err, /build of entity orders failed \(buildah exited \d+\)/)
    assert.match(r.stderr, /marker-before-failure/)
    assert.match(err, /1 of 2 images failed: orders/)
    assert.match(r.stdout, /built\s+customers/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
    // What succeeded is recorded; what failed is not.
    assert.deepEqual(Object.keys(images(bad)), ['customers'])
    const json = cli(['build', bad, '--builder', 'buildah', '--json'], {env})
    assert.equal(json.code, 1)
    const failed = byEntity(json.stdout).orders
    assert.equal(failed.status, 'failed')
    assert.ok(failed.log.some((l: string) => l.includes('marker-before-failure')), failed.log.join('\n'))
    // The last 20 lines, not the whole output.
    assert.equal(failed.log.length, 20)
    assert.ok(!failed.log.some((l: string) => l === 'compile-step-1'))
    assert.ok(failed.log.includes('compile-step-40'))
  })

  it('an unreachable registry: exit 1 naming it, before anything is built', async () => {
    const closed = await freePort()
    const r = cli(['build', dir, '--builder', 'buildah', '--push', '--registry', `127.0.0.1:${closed}/sales`, '--insecure-registry'], {env})
    assert.equal(r.code, 1, r.stderr)
    assert.match(flat(r.stderr), new RegExp(`registry 127\\.0\\.0\\.1:${closed} is unreachable: .*ECONNREFUSED`))
    assert.doesNotMatch(r.stderr, /building/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })

  it('a registry that refuses the push (read-only): exit 1, the entity and the registry\'s answer', async () => {
    const readOnlyPort = await freePort()
    const readOnly = await startRegistry(path.join(tmp, 'readonly'), readOnlyPort, {readOnly: true})
    try {
      const r = cli(['build', dir, '--builder', 'buildah', '--push', '--registry', `127.0.0.1:${readOnlyPort}/sales`, '--insecure-registry'], {env})
      assert.equal(r.code, 1, r.stderr)
      const err = flat(r.stderr)
      assert.match(err, new RegExp(`push of 127\\.0\\.0\\.1:${readOnlyPort}/sales/shop-orders:[0-9a-f]{12} \\(entity orders\\) failed \\(buildah exited \\d+\\)`))
      assert.match(err, /read-only|unsupported|denied|405/i)
      assert.match(err, /2 of 2 images failed: customers, orders/)
      assert.doesNotMatch(r.stderr, STACK_TRACE)
    } finally {
      await readOnly.stop()
    }
  })

  it('never speaks plain HTTP to a registry unless --insecure-registry says so', () => {
    appendFileSync(path.join(dir, 'services/orders/server.sh'), 'echo tls\n')
    const r = cli(['build', dir, '--builder', 'buildah', '--push', '--registry', `127.0.0.1:${port}/sales`], {env})
    assert.equal(r.code, 1, r.stderr)
    assert.match(flat(r.stderr), /registry 127\.0\.0\.1:\d+ did not complete a TLS handshake at https:\/\/127\.0\.0\.1:\d+\/v2\/ \(EPROTO: wrong version number\)/)
    assert.match(flat(r.stderr), /pass --insecure-registry/)
    assert.doesNotMatch(r.stderr, STACK_TRACE)
  })

  describe('the docker builder (the real docker client against podman\'s Docker-compatible socket)', () => {
    let podman: (Server & {dockerHost: string}) | undefined

    before(async function () {
      const missing = missingTools(['docker', 'podman', 'runc'])
      if (missing.length > 0) {
        process.stderr.write(`skipping the docker builder tests: missing ${missing.join(', ')}; run scripts/install-system-deps.sh as root\n`)
        this.skip()
      }
      podman = await startPodmanService(path.join(tmp, 'podman'), env, `127.0.0.1:${port}`)
    })

    after(async () => {
      await podman?.stop()
    })

    it('builds with a RUN step and pushes; images.json holds the registry\'s digest', () => {
      const product = scaffold(tmp, 'viadocker')
      writeFileSync(path.join(product, 'services/orders/Containerfile'), `FROM ${BASE}\nRUN echo via-docker > /built\n`)
      const r = cli(['build', product, '--builder', 'docker', '--push', '--registry', `127.0.0.1:${port}/sales`, '--insecure-registry', '--json', '--concurrency', '1'], {
        env: {...env, DOCKER_HOST: podman!.dockerHost},
      })
      assert.equal(r.code, 0, r.stderr)
      const out = byEntity(r.stdout)
      for (const entity of ['orders', 'customers']) {
        assert.equal(out[entity].status, 'pushed')
        assert.equal(images(product)[entity].builder, 'docker')
        assert.equal(images(product)[entity].digest, registryDigest(out[entity].image))
      }
      assert.match(JSON.parse(r.stdout).warnings[0], /docker takes registry TLS settings from its daemon/)
    })

    it('is what detection picks when its engine answers', () => {
      const product = scaffold(tmp, 'detected')
      const r = cli(['build', product, '--json'], {env: {...env, DOCKER_HOST: podman!.dockerHost}})
      assert.equal(r.code, 0, r.stderr)
      assert.equal(JSON.parse(r.stdout).builder, 'docker')
    })
  })
})

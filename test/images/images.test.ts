import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {desiredChildren} from '../../src/core/reconcile/product/desired.js'
import {IMAGE_USER} from '../../src/core/reconcile/product/runtime.js'
import {ROOT, fixture} from '../helpers/cli.js'
import {partial} from '../helpers/fixtures.js'
import {missingTools} from '../helpers/images.js'
import {ImageStore, type MountedImage, type NetworkNamespace, type RunOptions, createNetns, runToEnd, startContainer, writeBundle} from '../helpers/oci-run.js'
import {postgresBinDir, requireOrSkip} from '../helpers/postgres.js'

const BUILD = path.join(ROOT, 'test/images/build.sh')
const REGISTRY = path.join(ROOT, 'cluster/registry.sh')
const VERSION = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version

/**
 * The Postgres container as the operator renders it for a product's operational storage: its
 * user, its volume's mount path and its plain environment (the credentials come from a Secret).
 */
function operatorPostgres(): {user: {uid: number; gid: number}; mountPath: string; env: Record<string, string>; readOnlyRoot: boolean} {
  const labels = {'dappmesh.io/product': 'shop'}
  const product = {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataProduct', metadata: {name: 'shop', namespace: 'sales', uid: 'u-1', labels}, spec: {domain: 'sales'}}
  const storage = {kind: 'DataStorage', metadata: {name: 'operational', namespace: 'sales', labels}, spec: {class: 'operational', engine: 'postgresql'}}
  const children = desiredChildren(partial({product, storages: [storage], outputPorts: [], inputPorts: [], workflows: [], contracts: []}), {image: 'dappmesh:test'})
  const pod = (children.find((c) => c.kind === 'StatefulSet') as any).spec.template.spec
  const container = pod.containers[0]
  assert.equal(container.image, 'postgres:16', 'the image this fixture stands in for')
  assert.deepEqual(container.securityContext.capabilities.drop, ['ALL'])
  return {
    user: {uid: pod.securityContext.runAsUser, gid: pod.securityContext.runAsGroup},
    mountPath: container.volumeMounts[0].mountPath,
    env: Object.fromEntries(container.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value])),
    readOnlyRoot: container.securityContext.readOnlyRootFilesystem ?? false,
  }
}

function build(): {refs: string[]; log: string} {
  const r = spawnSync('bash', [BUILD], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  assert.equal(r.status, 0, `test/images/build.sh failed:\n${r.stderr}`)
  return {refs: r.stdout.trim().split('\n'), log: r.stderr}
}

/** psql from this machine to the container's address, with a password; never through a socket. */
function psql(host: string, user: string, password: string, database: string, sql: string): {code: number; out: string} {
  const bin = postgresBinDir()!
  const r = spawnSync(path.join(bin, 'psql'), ['-h', host, '-p', '5432', '-U', user, '-d', database, '-X', '-tAc', sql], {
    encoding: 'utf8',
    env: {...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '3'},
    timeout: 20_000,
  })
  return {code: r.status ?? 1, out: `${r.stdout}${r.stderr}`.trim()}
}

async function until<T>(what: string, timeoutMs: number, attempt: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = attempt()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000}s`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe('test images for the real node (test/images/build.sh, run by runc)', function () {
  this.timeout(1_800_000)
  let tmp: string
  let store: ImageStore
  let refs: Record<'node' | 'postgres' | 'dappmesh', string>
  let run = 0
  /** Whether this suite started the local registry (build.sh stops the one it starts on exit). */
  let startedRegistry = false

  /** A fresh bundle for `image` and `options`. */
  const bundle = (image: MountedImage, options: RunOptions) => writeBundle(path.join(tmp, `bundle-${++run}`), image, options)

  before(function () {
    const missing = missingTools(['mmdebstrap', 'buildah', 'skopeo', 'docker-registry', 'runc', 'ip'])
    if (process.getuid?.() !== 0 || missing.length > 0 || !postgresBinDir()) {
      const why = process.getuid?.() === 0 ? `missing ${[...missing, ...(postgresBinDir() ? [] : ['postgresql (psql)'])].join(', ')}` : 'not root (runc, mmdebstrap)'
      process.stderr.write(`skipping the image tests: ${why}; CI runs them as root after scripts/install-system-deps.sh\n`)
      requireOrSkip(this, why)
    }
    // Cold on a fresh machine (.ci/run builds them before the tests), seconds when cached.
    const [node, postgres, dappmesh] = build().refs
    refs = {node, postgres, dappmesh}
    // The tests pull the images back from the registry, which build.sh stops when it started it.
    if (spawnSync('bash', [REGISTRY, 'status']).status !== 0) {
      const started = spawnSync('bash', [REGISTRY, 'start'], {encoding: 'utf8'})
      assert.equal(started.status, 0, `cluster/registry.sh start failed:\n${started.stderr}`)
      startedRegistry = true
    }
    tmp = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-images-'))
    store = new ImageStore(path.join(tmp, 'store'))
  })

  after(() => {
    store?.close()
    if (tmp) rmSync(tmp, {recursive: true, force: true})
    if (startedRegistry) spawnSync('bash', [REGISTRY, 'stop'])
  })

  it('builds nothing and pushes nothing when nothing changed', () => {
    const {log} = build()
    assert.equal(log.match(/is current/g)?.length, 3, log)
    assert.doesNotMatch(log, /building|pushed/, log)
  })

  it('names the images as the manifests do, under library/ in the local registry', () => {
    assert.match(refs.node, /\/library\/node:22-bookworm-slim$/)
    assert.match(refs.postgres, /\/library\/postgres:16$/)
    assert.match(refs.dappmesh, new RegExp(`/library/dappmesh:${VERSION.replaceAll('.', '\\.')}$`))
  })

  describe('node:22-bookworm-slim', () => {
    let image: MountedImage
    before(() => {
      image = store.mount(refs.node)
    })
    after(() => image?.release())

    it('runs Node 22 with npm, npx and corepack, as the user node (1000)', async () => {
      const script = 'node --version; npm --version; npx --version; corepack --version; id -un; id -u; id -g'
      const r = await runToEnd(bundle(image, {command: ['sh', '-c', script], user: {uid: 1000, gid: 1000}, env: {HOME: '/home/node'}}))
      assert.equal(r.code, 0, r.output)
      const [node, npm, npx, corepack, name, uid, gid] = r.output.trim().split('\n')
      assert.match(node, /^v22\.\d+\.\d+$/)
      assert.match(npm, /^10\.\d+\.\d+$/)
      assert.equal(npx, npm)
      assert.match(corepack, /^0\.\d+\.\d+$/)
      assert.deepEqual([name, uid, gid], ['node', '1000', '1000'])
    })

    it('runs `node` when given no command and says its Node version, as the official image does', () => {
      assert.deepEqual(image.config.Cmd, ['node'])
      assert.match(image.config.Env?.find((e) => e.startsWith('NODE_VERSION=')) ?? '', /^NODE_VERSION=22\.\d+\.\d+$/)
    })
  })

  describe('postgres:16 (Debian PostgreSQL behind the official image\'s contract)', () => {
    let image: MountedImage
    let net: NetworkNamespace
    const pod = operatorPostgres()
    const {user} = pod
    const env = {...pod.env, POSTGRES_USER: 'shop', POSTGRES_PASSWORD: 'pa55-w0rd', POSTGRES_DB: 'orders'}

    /** An empty volume as the local node makes one: a directory of root's, mode 0777, at the mount path. */
    function volume(): {source: string; destination: string} {
      const source = mkdtempSync(path.join(tmp, 'pgdata-'))
      chmodSync(source, 0o777)
      return {source, destination: pod.mountPath}
    }

    /** The operator's pod: its user, no capabilities, no privilege escalation, the volume at its path. */
    function start(data: {source: string; destination: string}, extra: Record<string, string> = env) {
      return startContainer(bundle(image, {user, env: extra, binds: [data], netns: net.path, readOnlyRoot: pod.readOnlyRoot}))
    }

    const ready = (c: ReturnType<typeof start>) =>
      until('Postgres did not accept a password login', 90_000, () => {
        if (c.child.exitCode !== null) throw new Error(`Postgres exited (${c.child.exitCode}):\n${c.output()}`)
        const r = psql(net.ip, env.POSTGRES_USER, env.POSTGRES_PASSWORD, env.POSTGRES_DB, 'select 1')
        return r.code === 0 ? true : undefined
      })

    before(function () {
      image = store.mount(refs.postgres)
      net = createNetns()
    })
    after(() => {
      image?.release()
      net?.remove()
    })

    it('initialises an empty volume as the operator mounts it (uid 999) and takes a password login on 5432 from another address', async () => {
      const c = start(volume())
      try {
        await ready(c)
        const r = psql(net.ip, env.POSTGRES_USER, env.POSTGRES_PASSWORD, env.POSTGRES_DB, "select current_user, current_database(), host(inet_client_addr()), (select usesuper from pg_user where usename = current_user), current_setting('server_version_num')::int / 10000")
        assert.equal(r.code, 0, r.out)
        const [who, database, client, superuser, major] = r.out.split('|')
        assert.deepEqual([who, database, client, superuser], ['shop', 'orders', net.hostIp, 't'])
        assert.equal(major, image.config.Labels?.['io.dappmesh.test.postgres-major'])
      } finally {
        await c.remove()
      }
    })

    it('refuses a login with a wrong password', async () => {
      const c = start(volume())
      try {
        await ready(c)
        const r = psql(net.ip, env.POSTGRES_USER, 'not-the-password', env.POSTGRES_DB, 'select 1')
        assert.notEqual(r.code, 0)
        assert.match(r.out, /password authentication failed for user "shop"/)
      } finally {
        await c.remove()
      }
    })

    it('shuts down fast and clean on SIGTERM while a client is in a query, and keeps its data', async () => {
      const data = volume()
      const first = start(data)
      try {
        await ready(first)
        assert.equal(psql(net.ip, env.POSTGRES_USER, env.POSTGRES_PASSWORD, env.POSTGRES_DB, 'create table kept (n int); insert into kept values (42)').code, 0)
        // A session that would hold a "smart" shutdown for ten minutes.
        const sleeper = spawn(path.join(postgresBinDir()!, 'psql'), ['-h', net.ip, '-U', env.POSTGRES_USER, '-d', env.POSTGRES_DB, '-X', '-c', 'select pg_sleep(600)'], {stdio: 'ignore', env: {...process.env, PGPASSWORD: env.POSTGRES_PASSWORD}})
        await until('the sleeping query did not start', 20_000, () =>
          psql(net.ip, env.POSTGRES_USER, env.POSTGRES_PASSWORD, env.POSTGRES_DB, "select count(*) from pg_stat_activity where query like 'select pg_sleep(600)%'").out === '1' ? true : undefined,
        )
        const signalled = Date.now()
        first.signal('SIGTERM')
        const code = await Promise.race([first.exited, new Promise<number>((r) => setTimeout(() => r(-1), 20_000))])
        assert.equal(code, 0, `exit ${code} ${Date.now() - signalled} ms after SIGTERM:\n${first.output()}`)
        assert.match(first.output(), /fast shutdown request/)
        assert.match(first.output(), /database system is shut down/)
        sleeper.kill('SIGKILL')
      } finally {
        await first.remove()
      }

      const second = start(data)
      try {
        await ready(second)
        assert.match(second.output(), /database system was shut down at/)
        assert.doesNotMatch(second.output(), /not properly shut down|automatic recovery/)
        assert.equal(psql(net.ip, env.POSTGRES_USER, env.POSTGRES_PASSWORD, env.POSTGRES_DB, 'select n from kept').out, '42')
      } finally {
        await second.remove()
      }
    })

    it('refuses to initialise without POSTGRES_PASSWORD and says what to set', async () => {
      const r = await runToEnd(bundle(image, {user, env: {...pod.env, POSTGRES_USER: 'shop'}, binds: [volume()], netns: net.path}))
      assert.equal(r.code, 1, r.output)
      assert.match(r.output, /POSTGRES_PASSWORD is not set/)
      assert.match(r.output, /Set POSTGRES_PASSWORD \(or POSTGRES_PASSWORD_FILE\)/)
    })

    it('cannot initialise a volume\'s root it does not own, as the official image cannot (why the operator sets PGDATA below it)', async () => {
      const r = await runToEnd(bundle(image, {user, env: {POSTGRES_PASSWORD: 'x', PGDATA: pod.mountPath}, binds: [volume()], netns: net.path}))
      assert.notEqual(r.code, 0, r.output)
      assert.match(r.output, /could not change permissions of directory/)
    })

    it('asks for a fast shutdown when stopped by its STOPSIGNAL, as the official image does', () => {
      assert.equal(image.config.StopSignal, 'SIGINT')
    })
  })

  describe('dappmesh (the repository\'s Containerfile on that Node base)', () => {
    let image: MountedImage
    // The runtime's pod: the image's user, a read-only root filesystem, /tmp an emptyDir, HOME=/tmp.
    const asRuntime = (options: RunOptions): RunOptions => ({user: {uid: IMAGE_USER, gid: IMAGE_USER}, readOnlyRoot: true, tmpfs: ['/tmp'], env: {HOME: '/tmp'}, ...options})
    before(() => {
      image = store.mount(refs.dappmesh)
    })
    after(() => image?.release())

    it('prints its version as the runtime pod runs it (uid 1000, read-only root)', async () => {
      const r = await runToEnd(bundle(image, asRuntime({args: ['--version']})))
      assert.equal(r.code, 0, r.output)
      assert.match(r.output, new RegExp(`^dappmesh/${VERSION.replaceAll('.', '\\.')} linux-x64 node-v22\\.`))
    })

    it('loads the native DuckDB binding and answers a query', async () => {
      const script = "const {DuckDBInstance} = await import('@duckdb/node-api'); const db = await DuckDBInstance.create(':memory:'); const r = await (await db.connect()).runAndReadAll('select 40 + 2 as answer'); console.log(String(r.getRows()[0][0]))"
      const r = await runToEnd(bundle(image, asRuntime({command: ['node', '--input-type=module', '-e', script]})))
      assert.equal(r.code, 0, r.output)
      assert.equal(r.output.trim(), '42')
    })

    it('serves a product as the runtime pod runs it, to a caller in another network namespace', async () => {
      const net = createNetns()
      const c = startContainer(
        bundle(
          image,
          asRuntime({
            args: ['serve', '/product', '--host', '0.0.0.0', '--port', '8080', '--data-dir', '/data'],
            tmpfs: ['/tmp', '/data'],
            binds: [{source: fixture('serve', 'shop'), destination: '/product', readOnly: true}],
            netns: net.path,
          }),
        ),
      )
      try {
        const url = `http://${net.ip}:8080`
        await until('the runtime did not answer /readyz', 60_000, () => {
          if (c.child.exitCode !== null) throw new Error(`serve exited (${c.child.exitCode}):\n${c.output()}`)
          const r = spawnSync('curl', ['-fsS', '--max-time', '2', `${url}/readyz`], {encoding: 'utf8'})
          return r.status === 0 ? true : undefined
        })
        const ports = await (await fetch(`${url}/v1/ports`)).json()
        assert.ok(JSON.stringify(ports).includes('orders-api'), JSON.stringify(ports))
        c.signal('SIGTERM')
        assert.equal(await c.exited, 0, c.output())
      } finally {
        await c.remove()
        net.remove()
      }
    })

    it('has no npm, npx or corepack, and runs as the numeric user 1000', async () => {
      const r = await runToEnd(bundle(image, asRuntime({command: ['sh', '-c', 'for t in npm npx corepack yarn; do command -v $t; done; true']})))
      assert.equal(r.code, 0, r.output)
      assert.equal(r.output.trim(), '')
      assert.equal(image.config.User, '1000:1000')
      assert.deepEqual(image.config.Entrypoint, ['dappmesh'])
    })
  })
})

import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {
  buildInvocation,
  detectBuilder,
  existsInvocation,
  kindLoadInvocations,
  makeBuilder,
  pushInvocation,
  pushedDigestFromOutput,
  storageArgs,
} from '../../src/core/build/builders.js'
import {UserError, UsageError} from '../../src/core/errors.js'

const req = {contextDir: '/p/services/orders', containerfile: '/p/services/orders/Containerfile', reference: '127.0.0.1:5000/sales/shop-orders:abc', iidFile: '/tmp/x.iid'}
const storage = {DAPPMESH_STORAGE_ROOT: '/s/root', DAPPMESH_STORAGE_RUNROOT: '/s/run', DAPPMESH_STORAGE_DRIVER: 'vfs'}

describe('build: builder commands (argument arrays, never a shell string)', () => {
  it('buildah: storage flags first, then bud with chroot isolation, the Containerfile, the tag, the id file and the context', () => {
    const b = makeBuilder('buildah', {env: storage})
    assert.deepEqual(buildInvocation(b, req, {}), {
      file: 'buildah',
      args: ['--root', '/s/root', '--runroot', '/s/run', '--storage-driver', 'vfs', 'bud', '--isolation', 'chroot', '-f', req.containerfile, '-t', req.reference, '--iidfile', req.iidFile, req.contextDir],
    })
  })

  it('buildah and podman: BUILDAH_ISOLATION, when set, is left to decide the isolation', () => {
    for (const name of ['buildah', 'podman'] as const) {
      const {args} = buildInvocation(makeBuilder(name, {env: {}}), req, {BUILDAH_ISOLATION: 'oci'})
      assert.ok(!args.includes('--isolation'), name)
    }
  })

  it('podman: build with the same flags; --platform passes through', () => {
    const {file, args} = buildInvocation(makeBuilder('podman', {env: {}}), {...req, platform: 'linux/arm64'}, {})
    assert.equal(file, 'podman')
    assert.deepEqual(args.slice(0, 3), ['build', '--isolation', 'chroot'])
    assert.deepEqual(args.slice(args.indexOf('--platform'), args.indexOf('--platform') + 2), ['--platform', 'linux/arm64'])
    assert.equal(args.at(-1), req.contextDir)
  })

  it('docker: buildx build --load when buildx is there, else the classic build; no storage flags', () => {
    const buildx = buildInvocation(makeBuilder('docker', {buildx: true, env: storage}), req)
    assert.deepEqual(buildx.args.slice(0, 2), ['buildx', 'build'])
    assert.ok(buildx.args.includes('--load'))
    const classic = buildInvocation(makeBuilder('docker', {env: storage}), req)
    assert.deepEqual(classic.args, ['build', '-f', req.containerfile, '-t', req.reference, '--iidfile', req.iidFile, req.contextDir])
  })

  it('push: --tls-verify=false only when asked, the digest written to a file; docker pushes by name', () => {
    const b = makeBuilder('buildah', {env: {}})
    assert.deepEqual(pushInvocation(b, req.reference, {insecure: false, digestFile: '/d'}).args, ['push', '--digestfile', '/d', req.reference, `docker://${req.reference}`])
    assert.ok(pushInvocation(b, req.reference, {insecure: true, digestFile: '/d'}).args.includes('--tls-verify=false'))
    assert.deepEqual(pushInvocation(makeBuilder('podman', {env: storage}), req.reference, {insecure: true, digestFile: '/d'}).args.slice(6, 8), ['push', '--tls-verify=false'])
    assert.deepEqual(pushInvocation(makeBuilder('docker'), req.reference, {insecure: true, digestFile: '/d'}), {file: 'docker', args: ['push', req.reference]})
  })

  it('reads the digest docker push prints', () => {
    const digest = `sha256:${'ab'.repeat(32)}`
    assert.equal(pushedDigestFromOutput(`The push refers to repository [x]\nabc: digest: ${digest} size: 737\n`), digest)
    assert.equal(pushedDigestFromOutput('nothing here'), undefined)
  })

  it('asks each builder whether it holds an image in its own way', () => {
    assert.deepEqual(existsInvocation(makeBuilder('docker'), 'x:1').args, ['image', 'inspect', 'x:1'])
    assert.deepEqual(existsInvocation(makeBuilder('buildah', {env: {}}), 'x:1').args, ['inspect', '--type', 'image', 'x:1'])
    assert.deepEqual(existsInvocation(makeBuilder('podman', {env: {}}), 'x:1').args, ['image', 'exists', 'x:1'])
  })

  it('--load: kind load docker-image for docker; a docker archive and kind load image-archive for buildah and podman', () => {
    assert.deepEqual(kindLoadInvocations(makeBuilder('docker'), 'x:1', 'dappmesh', '/t/x.tar'), [{file: 'kind', args: ['load', 'docker-image', 'x:1', '--name', 'dappmesh']}])
    const buildah = kindLoadInvocations(makeBuilder('buildah', {env: storage}), 'x:1', 'dev', '/t/x.tar')
    assert.deepEqual(buildah[0].args.slice(6), ['push', 'x:1', 'docker-archive:/t/x.tar:x:1'])
    assert.deepEqual(buildah[1], {file: 'kind', args: ['load', 'image-archive', '/t/x.tar', '--name', 'dev']})
    const podman = kindLoadInvocations(makeBuilder('podman', {env: {}}), 'x:1', 'dev', '/t/x.tar')
    assert.deepEqual(podman[0].args, ['save', '--format', 'docker-archive', '-o', '/t/x.tar', 'x:1'])
    assert.deepEqual(podman[1].args, ['load', 'image-archive', '/t/x.tar', '--name', 'dev'])
  })

  it('storage flags come only from the DAPPMESH_STORAGE_* variables that are set', () => {
    assert.deepEqual(storageArgs({}), [])
    assert.deepEqual(storageArgs({DAPPMESH_STORAGE_ROOT: '/r'}), ['--root', '/r'])
  })
})

describe('build: builder detection', () => {
  let empty: string
  before(() => {
    empty = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-nopath-'))
  })
  after(() => rmSync(empty, {recursive: true, force: true}))

  it('with no builder on PATH: a user error that says how to get one', async () => {
    await assert.rejects(detectBuilder(undefined, {PATH: empty}), (e: unknown) => {
      assert.ok(e instanceof UserError && !(e instanceof UsageError))
      assert.match(e.message, /no image builder found: dappmesh build needs docker \(with a running engine\), buildah or podman/)
      assert.match(e.message, /buildah is not on PATH/)
      assert.ok(e.suggestions.some((s) => s.includes('apt-get install buildah')))
      return true
    })
  })

  it('an asked-for builder that does not answer is named', async () => {
    await assert.rejects(detectBuilder('podman', {PATH: empty}), /the podman builder does not answer: podman is not on PATH/)
  })

  it('an unknown builder is a usage error', async () => {
    await assert.rejects(detectBuilder('kaniko', {PATH: empty}), (e: unknown) => e instanceof UsageError && /unknown builder kaniko/.test(e.message))
  })
})

import assert from 'node:assert/strict'
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {checkBuilders, checkNode} from '../../src/core/doctor/checks.js'

describe('doctor checks without a cluster', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dappmesh-doctor-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('fails the Node.js check below the engines range of package.json, with how to fix', () => {
    assert.equal(checkNode('20.20.0').status, 'pass')
    const old = checkNode('18.19.0')
    assert.equal(old.status, 'fail')
    assert.match(old.message, /18\.19\.0 does not satisfy >=20/)
    assert.match(old.fix ?? '', /install Node\.js/)
  })

  it('fails the builders check when none of buildah, podman, docker is on PATH', async () => {
    const result = await checkBuilders({PATH: dir})
    assert.equal(result.status, 'fail')
    assert.match(result.fix ?? '', /apt-get install buildah/)
  })

  it('does not count a docker CLI whose engine does not answer', async () => {
    await writeFile(path.join(dir, 'docker'), '#!/bin/sh\nexit 1\n')
    await chmod(path.join(dir, 'docker'), 0o755)
    const result = await checkBuilders({PATH: dir})
    assert.equal(result.status, 'fail')
    assert.match(result.message, /docker is on PATH but no engine answers/)
  })

  it('passes with buildah on PATH', async () => {
    await writeFile(path.join(dir, 'buildah'), '#!/bin/sh\nexit 0\n')
    await chmod(path.join(dir, 'buildah'), 0o755)
    const result = await checkBuilders({PATH: dir})
    assert.equal(result.status, 'pass')
    assert.match(result.message, /available: buildah/)
  })
})

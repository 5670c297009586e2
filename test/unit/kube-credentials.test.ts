import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {ClusterUnreachableError} from '../../src/core/errors.js'
import {Credentials} from '../../src/core/kube/credentials.js'

const jwt = (claims: unknown) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('credentials reused between requests', () => {
  let dir: string
  let file: string

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-credentials-'))
    file = path.join(dir, 'token')
  })

  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('sends a token file as it was for up to a second without touching the file again', async () => {
    writeFileSync(file, 'token-a\n')
    const credentials = new Credentials({context: 'c', user: {tokenFile: file}})
    const first = await credentials.authenticate()
    assert.equal(first.headers.authorization, 'Bearer token-a')
    rmSync(file)
    // Within the second: the same credentials, no file system round-trip (the file is gone).
    assert.equal(credentials.current(), first)
    await sleep(1100)
    assert.equal(credentials.current(), undefined, 'after a second the file is looked at again')
    await assert.rejects(credentials.authenticate(), (error: unknown) => error instanceof ClusterUnreachableError && /cannot read the token file/.test(error.message))
  })

  it('uses a rotated token file from at most a second later, without waiting for a 401', async () => {
    writeFileSync(file, 'token-a')
    const credentials = new Credentials({context: 'c', user: {tokenFile: file}})
    assert.equal((await credentials.authenticate()).headers.authorization, 'Bearer token-a')
    writeFileSync(file, 'token-b')
    // A rotation is seen by its modification time; make it differ whatever the file system's resolution.
    const later = new Date(Date.now() + 5000)
    utimesSync(file, later, later)
    await sleep(1100)
    const auth = credentials.current() ?? (await credentials.authenticate())
    assert.equal(auth.headers.authorization, 'Bearer token-b')
  })

  it('keeps one credentials object while they stay the same, so a client can keep what it derives from it', async () => {
    writeFileSync(file, 'token-a')
    const credentials = new Credentials({context: 'c', user: {tokenFile: file}})
    const first = await credentials.authenticate()
    await sleep(1100)
    assert.equal(credentials.current(), undefined)
    assert.equal(await credentials.authenticate(), first, 'the file was looked at again and had not changed')
  })

  it('forgets the credentials after a 401 (invalidate): the next request reads again', async () => {
    const credentials = new Credentials({context: 'c', user: {tokenFile: file}})
    writeFileSync(file, 'token-a')
    await credentials.authenticate()
    assert.ok(credentials.current())
    credentials.invalidate()
    assert.equal(credentials.current(), undefined)
  })

  it('reuses an OIDC id-token until 10 s before it expires, and no longer', async () => {
    const soon = jwt({exp: Math.floor(Date.now() / 1000) + 11})
    const credentials = new Credentials({context: 'c', user: {'auth-provider': {name: 'oidc', config: {'id-token': soon}}}})
    const auth = await credentials.authenticate()
    assert.equal(auth.headers.authorization, `Bearer ${soon}`)
    assert.equal(credentials.current(), auth)
    assert.equal(credentials.current(Date.now() + 2000), undefined, 'within 10 s of its expiry it is checked (and refreshed) again')
  })

  it('reuses a static token for the life of the process', async () => {
    const credentials = new Credentials({context: 'c', user: {token: 'static'}})
    const auth = await credentials.authenticate()
    assert.equal(credentials.current(Date.now() + 86_400_000), auth)
  })
})

import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {parse, stringify} from 'yaml'

import {jwtExpiresAt} from '../../src/core/kube/oidc.js'
import {type LoadedKubeConfig, loadKubeConfig} from '../../src/core/kube/kubeconfig.js'
import {KubeRest} from '../../src/core/kube/rest.js'
import {controlPlaneOf} from '../helpers/apiserver.js'
import {cliAsync, flat} from '../helpers/cli.js'
import {createTestNamespace, requireCluster} from '../helpers/cluster.js'
import {type OidcIssuer, startOidcIssuer} from '../helpers/oidc-issuer.js'

/** Waits for `check` to hold; a check that throws (the API server not up yet) has not held. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  const holds = async () => {
    try {
      return await check()
    } catch {
      return false
    }
  }
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

interface OidcUserConfig {
  'id-token': string
  'refresh-token': string
  [key: string]: string
}

/**
 * The API server is restarted with an AuthenticationConfiguration that trusts a local OIDC
 * issuer (test/helpers/oidc-issuer.ts); users of that issuer are `oidc:<sub>`. The client under
 * test reads a kubeconfig with kubectl's `auth-provider: oidc` entry and must refresh its
 * id-token at the issuer by itself.
 */
describe('the kube client with an OIDC auth-provider, against an API server that trusts a real issuer', function () {
  let kubeconfig: string
  let loaded: LoadedKubeConfig
  let issuer: OidcIssuer
  let namespace: {name: string; remove: () => Promise<void>}
  let dir: string
  let controlPlane: ReturnType<typeof controlPlaneOf> | undefined
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
  const configmaps = () => `/api/v1/namespaces/${namespace.name}/configmaps`

  async function restartApiServer(extraArgs: string[]): Promise<void> {
    await controlPlane!.stopApiServer()
    controlPlane!.startApiServer(extraArgs)
    await until(() => kubectl('get', '--raw', '/readyz') === 'ok', 'the API server ready again', 120_000)
    // The controller manager and scheduler may lose their leases and exit: the kubelet's job, done here.
    await new Promise((resolve) => setTimeout(resolve, 2000))
    controlPlane!.reviveExited()
  }

  before(async function () {
    kubeconfig = await requireCluster(this)
    loaded = await loadKubeConfig({kubeconfig})
    dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-oidc-'))
    issuer = await startOidcIssuer(dir, {ttlSeconds: 30})
    namespace = await createTestNamespace(kubeconfig, 'oidc')
    kubectl('create', 'rolebinding', 'alice', '--clusterrole=view', '--user=oidc:alice', '-n', namespace.name)
    const authentication = path.join(dir, 'authentication.yaml')
    writeFileSync(
      authentication,
      stringify({
        apiVersion: 'apiserver.config.k8s.io/v1',
        kind: 'AuthenticationConfiguration',
        jwt: [{issuer: {url: issuer.url, audiences: [issuer.clientId], certificateAuthority: issuer.caPem}, claimMappings: {username: {claim: 'sub', prefix: 'oidc:'}}}],
      }),
    )
    controlPlane = controlPlaneOf(loaded.context.replace(/^kwok-/, ''))
    await restartApiServer([`--authentication-config=${authentication}`])
    // The API server fetches the issuer's keys in the background after it starts.
    const probe = await KubeRest.create({...loaded, user: {token: issuer.mint('alice', 300)}})
    try {
      await until(() => probe.list(configmaps()).then(() => true), 'the API server accepting an id-token of the issuer', 120_000)
    } finally {
      probe.close()
    }
  })

  after(async function () {
    this.timeout(300_000)
    // The shared cluster goes back to the command line it had.
    if (controlPlane) await restartApiServer([])
    await issuer?.close()
    await namespace?.remove()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  /** A kubeconfig of its own (so it can be rewritten) for the test cluster, whose user is `alice` of the issuer. */
  function oidcKubeconfig(name: string, tokens: {idToken: string; refreshToken: string}, extra: Record<string, string> = {}): string {
    const file = path.join(dir, name, 'config')
    rmSync(path.dirname(file), {recursive: true, force: true})
    mkdirSync(path.dirname(file))
    const cluster = {server: loaded.server, 'certificate-authority-data': clusterCaData()}
    const config: OidcUserConfig = {
      'id-token': tokens.idToken,
      'refresh-token': tokens.refreshToken,
      'idp-issuer-url': issuer.url,
      'client-id': issuer.clientId,
      'client-secret': issuer.clientSecret,
      'idp-certificate-authority-data': Buffer.from(issuer.caPem).toString('base64'),
      ...extra,
    }
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{name: 'test', cluster}],
        // Another user in the same file, which a rewrite must keep as it was.
        users: [{name: 'bob', user: {token: 'not-a-real-token'}}, {name: 'alice', user: {'auth-provider': {name: 'oidc', config}}}],
        contexts: [{name: 'alice', context: {cluster: 'test', user: 'alice', namespace: namespace.name}}],
        'current-context': 'alice',
      }),
      {mode: 0o600},
    )
    return file
  }

  /** The test cluster's CA (PEM, base64), which did not sign the issuer's certificate. */
  const clusterCaData = (): string => loaded.cluster['certificate-authority-data'] ?? readFileSync(loaded.cluster['certificate-authority']!).toString('base64')

  const savedConfig = (file: string): OidcUserConfig => {
    const document = parse(readFileSync(file, 'utf8')) as {users: Array<{name: string; user: {'auth-provider': {config: OidcUserConfig}}}>}
    return document.users.find((user) => user.name === 'alice')!.user['auth-provider'].config
  }

  async function listAs(file: string): Promise<{rest: KubeRest; items: number}> {
    const rest = await KubeRest.create(await loadKubeConfig({kubeconfig: file}))
    const list = await rest.list(configmaps())
    return {rest, items: list.items.length}
  }

  it('uses a valid id-token as it is, without asking the issuer', async () => {
    const tokens = {idToken: issuer.mint('alice', 300), refreshToken: issuer.refreshTokenFor('alice')}
    const file = oidcKubeconfig('valid', tokens)
    const before = readFileSync(file, 'utf8')
    const grants = issuer.grants.length
    const {rest} = await listAs(file)
    rest.close()
    assert.equal(rest.credentials.oidc?.refreshes, 0)
    assert.equal(issuer.grants.length, grants)
    assert.equal(readFileSync(file, 'utf8'), before)
  })

  it('refreshes an expired id-token at the issuer, succeeds, and writes the new tokens into the kubeconfig it came from (0600, other users untouched)', async () => {
    const expired = issuer.mint('alice', -60)
    const refreshToken = issuer.refreshTokenFor('alice')
    const file = oidcKubeconfig('expired', {idToken: expired, refreshToken})
    const {rest} = await listAs(file)
    rest.close()
    assert.equal(rest.credentials.oidc?.refreshes, 1)
    assert.deepEqual(issuer.grants.at(-1), {clientId: issuer.clientId, refused: false})
    const saved = savedConfig(file)
    assert.notEqual(saved['id-token'], expired)
    assert.ok(jwtExpiresAt(saved['id-token'])! > Date.now(), 'the saved id-token is the new, unexpired one')
    // The issuer's refresh tokens are single-use: the saved one must be the new one.
    assert.notEqual(saved['refresh-token'], refreshToken)
    assert.equal(saved['idp-issuer-url'], issuer.url)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.deepEqual(readdirSync(path.dirname(file)), ['config'], 'no temporary file left beside it')
    const document = parse(readFileSync(file, 'utf8')) as {users: Array<{name: string; user: {token?: string}}>}
    assert.equal(document.users.find((user) => user.name === 'bob')?.user.token, 'not-a-real-token')

    // The next process starts from the saved tokens, with no refresh.
    const next = await listAs(file)
    next.rest.close()
    assert.equal(next.rest.credentials.oidc?.refreshes, 0)
  })

  it('refreshes once for every client made from one kubeconfig (a probe, then the work), since the refresh token is single-use', async () => {
    const file = oidcKubeconfig('two-clients', {idToken: issuer.mint('alice', -60), refreshToken: issuer.refreshTokenFor('alice')})
    const loadedOnce = await loadKubeConfig({kubeconfig: file})
    const refreshes = issuer.refreshes
    const grants = issuer.grants.length
    const probe = await KubeRest.create(loadedOnce)
    const work = await KubeRest.create(loadedOnce)
    try {
      await probe.list(configmaps())
      await work.list(configmaps())
    } finally {
      probe.close()
      work.close()
    }
    assert.equal(issuer.refreshes - refreshes, 1)
    assert.ok(issuer.grants.slice(grants).every((grant) => !grant.refused), 'no refresh was refused')
  })

  it('refreshes once after a 401 for an id-token whose exp still looks good, and retries the request', async () => {
    const good = issuer.mint('alice', 300)
    // Same claims, broken signature: only the API server can tell.
    const forged = `${good.slice(0, good.lastIndexOf('.'))}.${Buffer.from('not the signature').toString('base64url')}`
    const file = oidcKubeconfig('refused', {idToken: forged, refreshToken: issuer.refreshTokenFor('alice')})
    const {rest} = await listAs(file)
    rest.close()
    assert.equal(rest.credentials.oidc?.refreshes, 1)
    assert.notEqual(savedConfig(file)['id-token'], forged)
  })

  it('refreshes again in the same process when the refreshed id-token expires', async function () {
    this.timeout(60_000)
    issuer.ttlSeconds = 12 // refreshed 10 s before exp, so it is due again 2 s later
    try {
      const file = oidcKubeconfig('short', {idToken: issuer.mint('alice', -1), refreshToken: issuer.refreshTokenFor('alice')})
      const {rest} = await listAs(file)
      try {
        assert.equal(rest.credentials.oidc?.refreshes, 1)
        await rest.list(configmaps())
        assert.equal(rest.credentials.oidc?.refreshes, 1, 'the fresh id-token is reused')
        await new Promise((resolve) => setTimeout(resolve, 3000))
        await rest.list(configmaps())
        assert.equal(rest.credentials.oidc?.refreshes, 2)
      } finally {
        rest.close()
      }
    } finally {
      issuer.ttlSeconds = 30
    }
  })

  it('exits 3 when the issuer refuses the refresh, saying why and how to fix it, without printing any token', async () => {
    const expired = issuer.mint('alice', -60)
    const unknownRefresh = 'rt-never-issued-0123456789'
    const file = oidcKubeconfig('refused-refresh', {idToken: expired, refreshToken: unknownRefresh})
    const before = readFileSync(file, 'utf8')
    const result = await cliAsync(['status', '-A', '--kubeconfig', file])
    const output = flat(result.stdout + result.stderr)
    assert.equal(result.code, 3, output)
    assert.match(output, /refreshing its OIDC id-token at https:\/\/127\.0\.0\.1:\d+\/token failed: HTTP 400: invalid_grant/)
    assert.match(output, /log in again/)
    for (const secret of [expired, unknownRefresh, issuer.clientSecret]) assert.ok(!output.includes(secret), 'a token or secret in the output')
    assert.equal(readFileSync(file, 'utf8'), before, 'the kubeconfig is unchanged')
  })

  it('exits 3 naming the issuer when it cannot be reached (a wrong certificate authority), without printing any token', async () => {
    const expired = issuer.mint('alice', -60)
    const refreshToken = issuer.refreshTokenFor('alice')
    const file = oidcKubeconfig('wrong-ca', {idToken: expired, refreshToken}, {'idp-certificate-authority-data': clusterCaData()})
    const result = await cliAsync(['status', '-A', '--kubeconfig', file])
    const output = flat(result.stdout + result.stderr)
    assert.equal(result.code, 3, output)
    assert.match(output, /cannot reach its OIDC issuer at https:\/\/127\.0\.0\.1:\d+/)
    for (const secret of [expired, refreshToken, issuer.clientSecret]) assert.ok(!output.includes(secret), 'a token or secret in the output')
  })
})

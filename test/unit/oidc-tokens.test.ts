import assert from 'node:assert/strict'

import {ClusterUnreachableError, ExitCode} from '../../src/core/errors.js'
import {Credentials} from '../../src/core/kube/credentials.js'
import {jwtExpiresAt} from '../../src/core/kube/oidc.js'

const jwt = (claims: unknown) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

describe('OIDC id-tokens', () => {
  it('reads when a JWT expires from its exp claim, in milliseconds', () => {
    assert.equal(jwtExpiresAt(jwt({exp: 1_700_000_000})), 1_700_000_000_000)
  })

  it('gives no expiry for a token without exp, with a non-numeric exp, or that is no JWT', () => {
    assert.equal(jwtExpiresAt(jwt({sub: 'alice'})), undefined)
    assert.equal(jwtExpiresAt(jwt({exp: '1700000000'})), undefined)
    assert.equal(jwtExpiresAt('opaque-token'), undefined)
    assert.equal(jwtExpiresAt('a.!!!not-base64-json!!!.c'), undefined)
  })

  it('refuses an expired id-token that cannot be refreshed with exit 3 and a fix, without the token in the message', async () => {
    const expired = jwt({exp: Math.floor(Date.now() / 1000) - 60, sub: 'alice'})
    const credentials = new Credentials({context: 'ctx', user: {'auth-provider': {name: 'oidc', config: {'id-token': expired}}}})
    assert.equal(credentials.refreshable, false)
    await assert.rejects(credentials.authenticate(), (error: unknown) => {
      assert.ok(error instanceof ClusterUnreachableError)
      assert.equal(error.exit, ExitCode.unreachable)
      assert.match(error.message, /context ctx: its OIDC id-token has expired and the kubeconfig has no refresh-token/)
      assert.match(error.suggestions.join(' '), /log in again/)
      assert.ok(!error.message.includes(expired))
      return true
    })
  })

  it('sends an unexpired id-token as the bearer token and may refresh it when it has a refresh token, issuer and client', async () => {
    const idToken = jwt({exp: Math.floor(Date.now() / 1000) + 600})
    const config = {'id-token': idToken, 'refresh-token': 'r', 'idp-issuer-url': 'https://issuer.invalid', 'client-id': 'c'}
    const credentials = new Credentials({context: 'ctx', user: {'auth-provider': {name: 'oidc', config}}})
    assert.equal((await credentials.authenticate()).headers.authorization, `Bearer ${idToken}`)
    assert.equal(credentials.refreshable, true)
  })
})

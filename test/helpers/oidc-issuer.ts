import {execFileSync} from 'node:child_process'
import {generateKeyPairSync, randomBytes, sign} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import path from 'node:path'

/**
 * A small OpenID Connect identity provider on 127.0.0.1, standing in for Dex or Keycloak: HTTPS
 * with a certificate authority of its own (made with openssl), a discovery document, a JWKS, and a
 * token endpoint that answers the refresh_token grant with a new RS256 id-token and a new
 * (single-use) refresh token. The API server trusts it through an AuthenticationConfiguration;
 * nothing of the API server is imitated.
 */
export interface OidcIssuer {
  url: string
  /** PEM of the CA that signed the issuer's TLS certificate */
  caPem: string
  clientId: string
  clientSecret: string
  /** an id-token for `subject` that expires `ttlSeconds` from now (negative: already expired) */
  mint: (subject: string, ttlSeconds: number) => string
  /** a refresh token the token endpoint accepts once, for `subject` */
  refreshTokenFor: (subject: string) => string
  /** lifetime of the id-tokens the token endpoint hands out */
  ttlSeconds: number
  /** refresh grants answered with a new id-token */
  refreshes: number
  /** every refresh grant, answered or not, with the client it authenticated as */
  grants: Array<{clientId?: string; refused: boolean}>
  close: () => Promise<void>
}

/** A CA and a server certificate for 127.0.0.1, with openssl, in `dir`. */
function makeTls(dir: string): {caPem: string; key: string; cert: string} {
  const file = (name: string) => path.join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, {stdio: ['ignore', 'ignore', 'pipe']})
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '1', '-subj', '/CN=dappmesh test OIDC CA')
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('tls.key'), '-out', file('tls.csr'), '-subj', '/CN=127.0.0.1')
  writeFileSync(file('tls.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  openssl('x509', '-req', '-in', file('tls.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('tls.crt'), '-days', '1', '-extfile', file('tls.ext'))
  return {caPem: readFileSync(file('ca.crt'), 'utf8'), key: readFileSync(file('tls.key'), 'utf8'), cert: readFileSync(file('tls.crt'), 'utf8')}
}

export async function startOidcIssuer(dir: string, options: {ttlSeconds?: number} = {}): Promise<OidcIssuer> {
  const tls = makeTls(dir)
  const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
  const kid = randomBytes(4).toString('hex')
  const jwk = {...publicKey.export({format: 'jwk'}), kid, alg: 'RS256', use: 'sig'}
  const clientId = 'dappmesh-test'
  const clientSecret = randomBytes(8).toString('hex')
  /** refresh token -> subject; each is used once */
  const refreshTokens = new Map<string, string>()
  let url = ''

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const mint = (subject: string, ttlSeconds: number): string => {
    const now = Math.floor(Date.now() / 1000)
    const head = `${b64({alg: 'RS256', typ: 'JWT', kid})}.${b64({iss: url, aud: clientId, sub: subject, iat: now, exp: now + ttlSeconds})}`
    return `${head}.${sign('sha256', Buffer.from(head), privateKey).toString('base64url')}`
  }
  const refreshTokenFor = (subject: string): string => {
    const token = `rt-${randomBytes(12).toString('hex')}`
    refreshTokens.set(token, subject)
    return token
  }

  const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, {'content-type': 'application/json', 'cache-control': 'no-store'})
    res.end(JSON.stringify(body))
  }
  const issuer: OidcIssuer = {
    url: '',
    caPem: tls.caPem,
    clientId,
    clientSecret,
    mint,
    refreshTokenFor,
    ttlSeconds: options.ttlSeconds ?? 30,
    refreshes: 0,
    grants: [],
    close: () => new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
  const server = https.createServer({key: tls.key, cert: tls.cert}, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const route = `${req.method} ${new URL(req.url ?? '/', url).pathname}`
      if (route === 'GET /.well-known/openid-configuration') {
        send(res, 200, {
          issuer: url,
          jwks_uri: `${url}/keys`,
          token_endpoint: `${url}/token`,
          authorization_endpoint: `${url}/auth`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        })
      } else if (route === 'GET /keys') {
        send(res, 200, {keys: [jwk]})
      } else if (route === 'POST /token') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
        const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1]
        const [id, secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent) : [form.get('client_id') ?? undefined, form.get('client_secret') ?? undefined]
        const subject = refreshTokens.get(form.get('refresh_token') ?? '')
        const refused = form.get('grant_type') !== 'refresh_token' || id !== clientId || secret !== clientSecret || subject === undefined
        issuer.grants.push({clientId: id, refused})
        if (refused) {
          send(res, 400, {error: 'invalid_grant', error_description: 'the refresh token is invalid, expired or was already used'})
          return
        }
        refreshTokens.delete(form.get('refresh_token')!)
        issuer.refreshes++
        send(res, 200, {access_token: randomBytes(8).toString('hex'), token_type: 'Bearer', expires_in: issuer.ttlSeconds, id_token: mint(subject!, issuer.ttlSeconds), refresh_token: refreshTokenFor(subject!)})
      } else {
        send(res, 404, {error: 'not_found'})
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  issuer.url = url
  return issuer
}

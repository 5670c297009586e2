import http from 'node:http'
import https from 'node:https'
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import type {ClusterUnreachableError} from '../errors.js'
import {writeOidcTokens} from './kubeconfig-file.js'
import type {LoadedKubeConfig} from './kubeconfig.js'

/** The `config` of a kubeconfig `auth-provider: {name: oidc}` entry, as kubectl's oidc provider wrote it. */
export interface OidcProviderConfig {
  'id-token'?: string
  'refresh-token'?: string
  'idp-issuer-url'?: string
  'client-id'?: string
  'client-secret'?: string
  'idp-certificate-authority'?: string
  'idp-certificate-authority-data'?: string
}

/** Builds the exit-3 error of a context whose credentials cannot be had: (what went wrong, how to fix it). */
export type CredentialsFailure = (what: string, fix: string, cause?: unknown) => ClusterUnreachableError

/** An id-token is refreshed this long before its `exp`, so that no request carries one that dies on the way. */
const EXPIRY_MARGIN_MS = 10_000
/** The identity provider gets this long per request (discovery, token). */
const IDP_TIMEOUT_MS = 30_000
const RELOGIN = 'log in again with your OIDC login helper (it writes a new id-token and refresh-token into the kubeconfig)'

/** When a JWT expires (ms since the epoch), from its `exp` claim; undefined when it has none or is no JWT. */
export function jwtExpiresAt(token: string): number | undefined {
  const payload = token.split('.')[1]
  if (!payload) return undefined
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {exp?: unknown}).exp
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}

interface IdpAnswer {
  status: number
  body: Record<string, unknown> | undefined
}

/**
 * The tokens of kubeconfig's `oidc` auth-provider: the id-token is sent until it expires (or the
 * API server answers 401); then the refresh-token buys a new one at the token endpoint the
 * issuer's discovery document names (grant_type=refresh_token), and both are written back into
 * the kubeconfig file the user entry came from, as kubectl did, since refresh tokens are often
 * single-use. Tokens never appear in an error message.
 */
export class OidcTokens {
  private idToken?: string
  private refreshToken?: string
  private stale = false
  private tokenEndpoint?: string
  private ca?: Buffer
  private pending?: Promise<string>
  private expiry?: {token: string | undefined; at: number | undefined}
  /** how many refreshes succeeded (for tests and the curious) */
  refreshes = 0

  constructor(
    private readonly loaded: Pick<LoadedKubeConfig, 'baseDir' | 'userSource'>,
    private readonly config: OidcProviderConfig,
    private readonly fail: CredentialsFailure,
  ) {
    this.idToken = config['id-token'] || undefined
    this.refreshToken = config['refresh-token'] || undefined
  }

  /** Whether a new id-token can be had without the user (a refresh token, an issuer and a client id). */
  get canRefresh(): boolean {
    return Boolean(this.refreshToken && this.config['idp-issuer-url'] && this.config['client-id'])
  }

  /** The server refused the id-token: the next request refreshes first. */
  invalidate(): void {
    this.stale = true
  }

  /**
   * Until when (ms since the epoch) the current id-token may be sent without asking `token()`
   * again: its expiry less the margin; 0 when it must be refreshed or checked now.
   */
  usableUntil(): number {
    if (!this.idToken || this.stale) return 0
    const expiresAt = this.expiresAt()
    return expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - EXPIRY_MARGIN_MS
  }

  /** The id-token's expiry, decoded once per token. */
  private expiresAt(): number | undefined {
    if (this.expiry?.token === this.idToken) return this.expiry?.at
    const at = this.idToken ? jwtExpiresAt(this.idToken) : undefined
    this.expiry = {token: this.idToken, at}
    return at
  }

  /** An id-token good for the next request, refreshed first when it expired, is about to, or was refused. */
  async token(): Promise<string> {
    const expiresAt = this.idToken ? this.expiresAt() : undefined
    const usable = this.idToken && !this.stale && (expiresAt === undefined || Date.now() < expiresAt - EXPIRY_MARGIN_MS)
    if (usable) return this.idToken!
    if (!this.canRefresh) {
      if (this.idToken && !this.stale) throw this.fail('its OIDC id-token has expired and the kubeconfig has no refresh-token, idp-issuer-url and client-id to renew it', RELOGIN)
      if (this.idToken) return this.idToken
      throw this.fail('its OIDC auth-provider has no id-token and no refresh-token, idp-issuer-url and client-id to get one', RELOGIN)
    }
    // Requests made together wait for one refresh (a refresh token may be single-use).
    this.pending ??= this.refresh().finally(() => (this.pending = undefined))
    return this.pending
  }

  private async refresh(): Promise<string> {
    const issuer = this.config['idp-issuer-url']!
    this.ca ??= await this.readCa()
    if (!this.tokenEndpoint) {
      const discovery = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
      const answer = await this.call(discovery, 'GET')
      const endpoint = answer.body?.token_endpoint
      if (answer.status !== 200 || typeof endpoint !== 'string') {
        throw this.fail(`the OIDC issuer ${issuer} has no discovery document with a token_endpoint (HTTP ${answer.status} from ${discovery})`, 'check idp-issuer-url in the kubeconfig')
      }
      this.tokenEndpoint = endpoint
    }
    const form = new URLSearchParams({grant_type: 'refresh_token', refresh_token: this.refreshToken!, client_id: this.config['client-id']!})
    const secret = this.config['client-secret']
    const headers: Record<string, string> = {'content-type': 'application/x-www-form-urlencoded'}
    if (secret) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(this.config['client-id']!)}:${encodeURIComponent(secret)}`).toString('base64')}`
    const answer = await this.call(this.tokenEndpoint, 'POST', form.toString(), headers)
    const idToken = answer.body?.id_token
    if (answer.status !== 200 || typeof idToken !== 'string' || idToken === '') {
      // The OAuth error code and description say why (invalid_grant: the refresh token expired or was used).
      const error = typeof answer.body?.error === 'string' ? `: ${this.redact(answer.body.error)}` : ''
      const description = typeof answer.body?.error_description === 'string' ? ` (${this.redact(answer.body.error_description).slice(0, 300)})` : ''
      const what = answer.status === 200 ? 'its answer has no id_token' : `HTTP ${answer.status}${error}${description}`
      throw this.fail(`refreshing its OIDC id-token at ${this.tokenEndpoint} failed: ${what}`, RELOGIN)
    }
    const refreshToken = typeof answer.body?.refresh_token === 'string' && answer.body.refresh_token !== '' ? answer.body.refresh_token : undefined
    this.idToken = idToken
    if (refreshToken) this.refreshToken = refreshToken
    this.stale = false
    this.refreshes++
    await this.persist(idToken, refreshToken)
    return idToken
  }

  private async persist(idToken: string, refreshToken: string | undefined): Promise<void> {
    const source = this.loaded.userSource
    if (!source) return
    try {
      await writeOidcTokens(source.file, source.name, {idToken, refreshToken})
    } catch (error) {
      // This process goes on with the new tokens; only the next one has to log in again.
      process.stderr.write(`warning: could not save the refreshed OIDC tokens to ${source.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`)
    }
  }

  private async readCa(): Promise<Buffer | undefined> {
    const data = this.config['idp-certificate-authority-data']
    if (data) return Buffer.from(data, 'base64')
    const file = this.config['idp-certificate-authority']
    if (!file) return undefined
    try {
      return await readFile(path.isAbsolute(file) ? file : path.join(this.loaded.baseDir, file))
    } catch (error) {
      throw this.fail(`cannot read idp-certificate-authority ${file}: ${(error as Error).message}`, 'fix idp-certificate-authority of that user in the kubeconfig', error)
    }
  }

  /** Whatever the identity provider echoes back loses our tokens before it is shown. */
  private redact(text: string): string {
    let out = text
    for (const secret of [this.refreshToken, this.idToken, this.config['client-secret']]) if (secret) out = out.split(secret).join('[redacted]')
    return out
  }

  private call(url: string, method: string, body?: string, headers: Record<string, string> = {}): Promise<IdpAnswer> {
    const target = new URL(url)
    const transport = target.protocol === 'https:' ? https : http
    return new Promise((resolve, reject) => {
      const req = transport.request(target, {method, headers: {accept: 'application/json', ...headers, ...(body === undefined ? {} : {'content-length': String(Buffer.byteLength(body))})}, ca: this.ca, timeout: IDP_TIMEOUT_MS}, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', (error) => reject(this.unreachableIdp(url, error)))
        res.on('end', () => {
          let parsed: Record<string, unknown> | undefined
          try {
            const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
            if (typeof value === 'object' && value !== null && !Array.isArray(value)) parsed = value as Record<string, unknown>
          } catch {
            // not JSON: the status says enough
          }
          resolve({status: res.statusCode ?? 0, body: parsed})
        })
      })
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${IDP_TIMEOUT_MS / 1000}s`), {code: 'ETIMEDOUT'})))
      req.on('error', (error) => reject(this.unreachableIdp(url, error)))
      if (body !== undefined) req.write(body)
      req.end()
    })
  }

  private unreachableIdp(url: string, error: Error): ClusterUnreachableError {
    const code = (error as NodeJS.ErrnoException).code
    return this.fail(`cannot reach its OIDC issuer at ${new URL(url).origin}: ${code ? `${code} ${error.message}` : error.message}`, 'check idp-issuer-url and idp-certificate-authority in the kubeconfig, and that the identity provider is up', error)
  }
}

const shared = new WeakMap<OidcProviderConfig, OidcTokens>()

/**
 * The tokens of one kubeconfig user entry, shared by every client made from it: a command often
 * makes two (a probe, then its work), and a refresh token the first one used may not work twice.
 */
export function oidcTokensFor(loaded: Pick<LoadedKubeConfig, 'baseDir' | 'userSource'>, config: OidcProviderConfig, fail: CredentialsFailure): OidcTokens {
  let tokens = shared.get(config)
  if (!tokens) {
    tokens = new OidcTokens(loaded, config, fail)
    shared.set(config, tokens)
  }
  return tokens
}

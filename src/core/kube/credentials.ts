import {execFile} from 'node:child_process'
import {readFile, stat} from 'node:fs/promises'

import {ClusterUnreachableError} from '../errors.js'
import type {KubeExecEntry, KubeUserEntry, LoadedKubeConfig} from './kubeconfig.js'
import {type OidcTokens, oidcTokensFor} from './oidc.js'

/** What one request carries to prove who we are. */
export interface Authentication {
  headers: Record<string, string | string[]>
  /** a client certificate and key (PEM), from the kubeconfig or an exec plugin */
  cert?: Buffer
  key?: Buffer
}

/** The status an ExecCredential plugin prints (client.authentication.k8s.io v1 and v1beta1). */
interface ExecCredentialStatus {
  token?: string
  clientCertificateData?: string
  clientKeyData?: string
  expirationTimestamp?: string
}

/** A bearer token file is read again at least this often, as client-go does, even without a 401. */
const TOKEN_FILE_MAX_AGE_MS = 60_000
/**
 * Within this long of its last look, a token file is taken as it was: a stat on every request cost
 * the operator a file system round-trip per request for a file the kubelet rotates once an hour.
 * A rotated file is used from at most this long later on (at once after a 401).
 */
const TOKEN_FILE_RECHECK_MS = 1000
/** An exec credential is renewed this long before it expires, so a request never carries a dying one. */
const EXEC_EXPIRY_MARGIN_MS = 10_000
const EXEC_TIMEOUT_MS = 60_000

function fileOrData(data: string | undefined, file: string | undefined): Promise<Buffer | undefined> | Buffer | undefined {
  if (data) return Buffer.from(data, 'base64')
  if (file) return readFile(file)
  return undefined
}

function credentialsError(loaded: Pick<LoadedKubeConfig, 'context'>, what: string, fix: string, cause?: unknown): ClusterUnreachableError {
  return new ClusterUnreachableError(`cannot get the credentials of context ${loaded.context}: ${what}`, [fix], cause)
}

/**
 * Applies a kubeconfig user's credentials to each request, so that credentials that change while
 * the process runs keep working: a token file is re-read (a rotated ServiceAccount token, a file a
 * sidecar refreshes), an exec plugin (cloud login helpers, OIDC helpers) is run again when its
 * credential expires, an `oidc` auth-provider's id-token is refreshed when it expires (oidc.ts),
 * and after a 401 the next request re-reads, re-runs or refreshes at once (`invalidate`).
 * Static tokens, basic auth and client certificates are what they are for the life of the process.
 */
export class Credentials {
  private tokenFromFile?: {token: string; readAt: number; mtimeMs: number; checkedAt: number}
  /** the last Authentication and until when (ms since the epoch) it may be sent without reading or running anything */
  private last?: {auth: Authentication; validUntil: number}
  private exec?: {status: ExecCredentialStatus; expiresAt: number}
  private pendingExec?: Promise<ExecCredentialStatus>
  private staticCert?: {cert?: Buffer; key?: Buffer}
  /** the `oidc` auth-provider's tokens, when the user has one */
  readonly oidc?: OidcTokens
  /** how many times the exec plugin ran (for tests and the curious) */
  execRuns = 0

  constructor(private readonly loaded: Pick<LoadedKubeConfig, 'context' | 'user'> & Partial<Pick<LoadedKubeConfig, 'baseDir' | 'userSource'>>, private readonly env: NodeJS.ProcessEnv = process.env) {
    const provider = loaded.user['auth-provider']
    if (provider && provider.name !== 'oidc') {
      throw credentialsError(loaded, `the auth-provider "${provider.name}" is not supported (it was removed from kubectl too)`, 'use the exec credential plugin of your cloud (e.g. gke-gcloud-auth-plugin, kubelogin) in the kubeconfig')
    }
    // Exec and tokens take precedence, as in authenticate().
    if (provider && !loaded.user.exec && !loaded.user.token && !loaded.user.tokenFile) {
      this.oidc = oidcTokensFor({baseDir: loaded.baseDir ?? process.cwd(), userSource: loaded.userSource}, provider.config ?? {}, (what, fix, cause) => credentialsError(loaded, what, fix, cause))
    }
  }

  private get user(): KubeUserEntry {
    return this.loaded.user
  }

  /** Whether a 401 may be cured by reading or running again (worth one retry). */
  get refreshable(): boolean {
    return Boolean(this.user.tokenFile || this.user.exec || this.oidc?.canRefresh)
  }

  /** Forget what was read or run: the server refused it. */
  invalidate(): void {
    this.last = undefined
    this.tokenFromFile = undefined
    this.exec = undefined
    this.oidc?.invalidate()
  }

  /**
   * The credentials of the last request when they are still good as they are (no file to look at,
   * no plugin to run, nothing expired): the same object each time, so a client can keep what it
   * derives from it. Undefined when `authenticate()` must be asked.
   */
  current(now = Date.now()): Authentication | undefined {
    const last = this.last
    return last && now < last.validUntil ? last.auth : undefined
  }

  async authenticate(): Promise<Authentication> {
    const user = this.user
    const headers: Record<string, string | string[]> = {}
    let cert: Buffer | undefined
    let key: Buffer | undefined
    // Until when this answer may be reused without reading or running anything again.
    let validUntil = Number.POSITIVE_INFINITY
    if (user.exec) {
      const status = await this.execCredential(user.exec)
      validUntil = this.exec?.expiresAt ?? 0
      if (status.token) headers.authorization = `Bearer ${status.token}`
      if (status.clientCertificateData && status.clientKeyData) {
        cert = Buffer.from(status.clientCertificateData)
        key = Buffer.from(status.clientKeyData)
      }
    } else if (user.token) {
      headers.authorization = `Bearer ${user.token}`
    } else if (user.tokenFile) {
      headers.authorization = `Bearer ${await this.readTokenFile(user.tokenFile)}`
      validUntil = (this.tokenFromFile?.checkedAt ?? 0) + TOKEN_FILE_RECHECK_MS
    } else if (this.oidc) {
      headers.authorization = `Bearer ${await this.oidc.token()}`
      validUntil = this.oidc.usableUntil()
    } else if (user.username !== undefined && user.password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`
    }
    if (!cert) {
      this.staticCert ??= await this.readStaticCert()
      cert = this.staticCert.cert
      key = this.staticCert.key
    }
    if (user.as) headers['impersonate-user'] = user.as
    // One header line per group.
    if (user['as-groups']?.length) headers['impersonate-group'] = user['as-groups']
    const previous = this.last?.auth
    // Unchanged credentials keep their identity (a client keys its headers and connections on it).
    const auth = previous && sameAuthentication(previous, {headers, cert, key}) ? previous : {headers, cert, key}
    this.last = {auth, validUntil}
    return auth
  }

  private async readStaticCert(): Promise<{cert?: Buffer; key?: Buffer}> {
    const user = this.user
    try {
      return {cert: await fileOrData(user['client-certificate-data'], user['client-certificate']), key: await fileOrData(user['client-key-data'], user['client-key'])}
    } catch (error) {
      throw credentialsError(this.loaded, `cannot read its client certificate or key: ${(error as Error).message}`, 'fix the client-certificate and client-key of that user in the kubeconfig', error)
    }
  }

  private async readTokenFile(file: string): Promise<string> {
    const now = Date.now()
    const cached = this.tokenFromFile
    try {
      if (cached && now - cached.readAt < TOKEN_FILE_MAX_AGE_MS) {
        // A changed modification time means a rotated file: read it again.
        const {mtimeMs} = await stat(file)
        if (mtimeMs === cached.mtimeMs) {
          cached.checkedAt = now
          return cached.token
        }
      }
      const [{mtimeMs}, text] = await Promise.all([stat(file), readFile(file, 'utf8')])
      const token = text.trim()
      if (!token) throw new Error('the file is empty')
      this.tokenFromFile = {token, readAt: now, mtimeMs, checkedAt: now}
      return token
    } catch (error) {
      throw credentialsError(this.loaded, `cannot read the token file ${file}: ${(error as Error).message}`, 'fix the tokenFile of that user in the kubeconfig', error)
    }
  }

  private async execCredential(exec: KubeExecEntry): Promise<ExecCredentialStatus> {
    if (this.exec && Date.now() < this.exec.expiresAt) return this.exec.status
    // Requests made together wait for one run of the plugin.
    this.pendingExec ??= this.runExec(exec).finally(() => (this.pendingExec = undefined))
    return this.pendingExec
  }

  private async runExec(exec: KubeExecEntry): Promise<ExecCredentialStatus> {
    const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1'
    const env = {
      ...this.env,
      ...Object.fromEntries((exec.env ?? []).map((entry) => [entry.name, entry.value])),
      KUBERNETES_EXEC_INFO: JSON.stringify({apiVersion, kind: 'ExecCredential', spec: {interactive: false}}),
    }
    this.execRuns++
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(exec.command, exec.args ?? [], {env, timeout: EXEC_TIMEOUT_MS, maxBuffer: 1 << 20, encoding: 'utf8'}, (error, out, err) => {
        if (error) {
          const hint = exec.installHint ? ` ${exec.installHint.trim()}` : ''
          reject(credentialsError(this.loaded, `the credential plugin ${exec.command} failed: ${(err || error.message).trim().slice(0, 500)}`, `check that ${exec.command} is installed and logged in.${hint}`, error))
        } else {
          resolve(out)
        }
      })
    })
    let status: ExecCredentialStatus | undefined
    try {
      status = (JSON.parse(stdout) as {status?: ExecCredentialStatus}).status
    } catch {
      // reported below
    }
    if (!status || !(status.token || (status.clientCertificateData && status.clientKeyData))) {
      throw credentialsError(this.loaded, `the credential plugin ${exec.command} printed no ExecCredential with a token or a client certificate`, `run it by hand to see what it prints: ${[exec.command, ...(exec.args ?? [])].join(' ')}`)
    }
    const expiry = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Number.POSITIVE_INFINITY
    this.exec = {status, expiresAt: Number.isFinite(expiry) ? expiry - EXEC_EXPIRY_MARGIN_MS : expiry}
    return status
  }
}

function sameAuthentication(a: Authentication, b: Authentication): boolean {
  const sameBuffer = (x: Buffer | undefined, y: Buffer | undefined) => x === y || Boolean(x && y && x.equals(y))
  return sameBuffer(a.cert, b.cert) && sameBuffer(a.key, b.key) && JSON.stringify(a.headers) === JSON.stringify(b.headers)
}

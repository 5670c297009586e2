import http from 'node:http'
import https from 'node:https'

import {UserError} from '../errors.js'

/**
 * The host part of an image repository (`127.0.0.1:5000/sales/x` → `127.0.0.1:5000`), or
 * undefined when the first component is not a host (`sales/x` means Docker Hub).
 */
export function registryHost(repository: string): string | undefined {
  const first = repository.split('/')[0]
  if (!repository.includes('/')) return undefined
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined
}

/**
 * Asks the registry's `/v2/` endpoint whether it is there before anything is built: any HTTP
 * answer (401 included) means reachable; a refused connection, a timeout or a TLS failure is a
 * user error that names the registry. Plain HTTP only with `insecure`, as the builders do.
 */
export async function checkRegistryReachable(host: string, options: {insecure: boolean; timeoutMs?: number}): Promise<void> {
  const timeout = options.timeoutMs ?? 10_000
  const scheme = options.insecure ? 'http' : 'https'
  const url = `${scheme}://${host}/v2/`
  const result = await new Promise<{status?: number; error?: NodeJS.ErrnoException}>((resolve) => {
    const get = scheme === 'http' ? http.get : https.get
    const req = get(url, {timeout}, (res) => {
      res.resume()
      resolve({status: res.statusCode})
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeout / 1000}s`), {code: 'ETIMEDOUT'})))
    req.on('error', (error: NodeJS.ErrnoException) => resolve({error}))
  })
  if (result.status !== undefined) return
  const error = result.error!
  const tls = /SSL|TLS|certificate|EPROTO|wrong version number/i.test(`${error.code} ${error.message}`)
  if (tls) {
    // OpenSSL's message is a paragraph; its reason ("wrong version number", "self-signed certificate") is what helps.
    const reason = /routines:[^:]*:([^:]+)/.exec(error.message)?.[1] ?? error.message
    throw new UserError(`registry ${host} did not complete a TLS handshake at ${url} (${error.code ?? 'TLS'}: ${reason.trim()})`, {
      suggestions: [`If ${host} serves plain HTTP or a self-signed certificate (a local test registry), pass --insecure-registry.`],
    })
  }
  throw new UserError(`registry ${host} is unreachable: ${url}: ${[error.code, error.message].filter(Boolean).join(' ')}`, {
    suggestions: [`Check that the registry at ${host} is running and the address (--registry or the DataProduct's spec.registry) is right.`],
  })
}

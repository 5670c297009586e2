import {createHash} from 'node:crypto'

import type {KubeRest} from '../kube/rest.js'
import {runtimeName} from '../model/child-names.js'
import type {DataRole} from '../model/types.js'
import {HttpError} from './errors.js'

/** Who called, as the API server's TokenReview says. */
export interface Subject {
  username: string
  groups: string[]
}

export type Access = 'read' | 'write' | 'admin'

/** What a request needs: an access level on an output port and/or on the storage behind it. */
export interface Need {
  outputPort?: string
  storage?: string
  access: Access
  /**
   * The product's own runtime account may do this too: its scheduled workflows' CronJobs run as
   * that account (no DataRole names it), and they may only start the product's own workflows.
   */
  ownRuntime?: boolean
}

const RANK: Record<Access, number> = {read: 1, write: 2, admin: 3}
/** How long a TokenReview answer is trusted: long enough to spare the API server, short enough to notice a revoked token soon. */
const CACHE_MS = 60_000

/**
 * Checks callers the Kubernetes way: the bearer token goes to a TokenReview (through the
 * project's one API client), and the subject it names must be granted the access by a DataRole
 * of the product. Answers are cached by a hash of the token (never the token itself) for a minute.
 */
export class TokenAuthenticator {
  private readonly cache = new Map<string, {subject: Subject | null; until: number}>()

  constructor(
    private readonly client: KubeRest,
    private readonly audiences: string[] = [],
  ) {}

  async authenticate(authorization: string | undefined): Promise<Subject> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
    if (!match) {
      throw new HttpError(401, 'this runtime needs a Kubernetes token: send "Authorization: Bearer <token>" (e.g. from kubectl create token SERVICEACCOUNT)', {}, {'WWW-Authenticate': 'Bearer'})
    }
    const token = match[1]
    const key = createHash('sha256').update(token).digest('hex')
    const now = Date.now()
    let hit = this.cache.get(key)
    if (!hit || hit.until < now) {
      hit = {subject: await this.review(token), until: now + CACHE_MS}
      this.cache.set(key, hit)
      if (this.cache.size > 10_000) for (const [k, v] of this.cache) if (v.until < now) this.cache.delete(k)
    }
    if (!hit.subject) throw new HttpError(401, 'the token was not accepted by the API server (expired, revoked or not a token of this cluster); get a new one with kubectl create token', {}, {'WWW-Authenticate': 'Bearer error="invalid_token"'})
    return hit.subject
  }

  private async review(token: string): Promise<Subject | null> {
    let answer: {status?: {authenticated?: boolean; user?: {username?: string; groups?: string[]}}}
    try {
      answer = await this.client.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        body: {apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {token, ...(this.audiences.length > 0 ? {audiences: this.audiences} : {})}},
      })
    } catch (error) {
      throw new HttpError(503, `cannot check the token: the API server did not answer the TokenReview (${(error as Error).message})`)
    }
    if (!answer.status?.authenticated || !answer.status.user?.username) return null
    return {username: answer.status.user.username, groups: answer.status.user.groups ?? []}
  }
}

/** Whether a DataRole subject is the caller (a ServiceAccount's namespace defaults to the role's). */
function isSubject(s: DataRole['spec']['subjects'][number], who: Subject, roleNamespace: string | undefined): boolean {
  if (s.kind === 'User') return who.username === s.name
  if (s.kind === 'Group') return who.groups.includes(s.name)
  const ns = s.namespace ?? roleNamespace
  return ns !== undefined && who.username === `system:serviceaccount:${ns}:${s.name}`
}

/**
 * Whether some DataRole grants `who` the access: a grant on the output port itself, or on the
 * storage that holds it; a higher access includes the lower ones (admin ⊃ write ⊃ read).
 */
export function granted(roles: DataRole[], who: Subject, need: Need, namespace: string | null, product?: string): boolean {
  if (need.ownRuntime && product && namespace && who.username === `system:serviceaccount:${namespace}:${runtimeName(product)}`) return true
  for (const role of roles) {
    if (!role.spec.subjects.some((s) => isSubject(s, who, role.metadata.namespace ?? namespace ?? undefined))) continue
    for (const g of role.spec.grants) {
      if (RANK[g.access as Access] < RANK[need.access]) continue
      if (g.outputPort !== undefined && g.outputPort === need.outputPort) return true
      if (g.storage !== undefined && g.storage === need.storage) return true
    }
  }
  return false
}

export function describeNeed(need: Need): string {
  const on = [need.outputPort && `output port ${need.outputPort}`, need.storage && `storage ${need.storage}`].filter(Boolean).join(' or ')
  return `${need.access} on ${on}`
}

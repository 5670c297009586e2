import {isDeepStrictEqual} from 'node:util'

import {FIELD_MANAGER} from '../kube/crds-install.js'
import {objectPath} from '../kube/paths.js'
import {KubeApiError, type KubeRest} from '../kube/rest.js'
import type {KubeObject} from '../kube/types.js'
import type {Manifest} from '../render/render.js'

/** An object as the cluster answers it by name (with its kind); its spec is what apply compares. */
export type LiveShared = KubeObject & {apiVersion: string; kind: string; spec?: unknown}

/**
 * What a product's apply does with the objects it shares with every other product of its mesh:
 * the DataMesh, the DataDomain and the domain's namespace. Those belong to the platform project
 * (`dappmesh init mesh`); a product project carries a copy of them so that it validates offline.
 * A product's apply creates one that does not exist yet (a first product on a new cluster), and
 * never changes one that does: applying any product could otherwise switch the mesh's governance
 * off. When its copy differs from the cluster's, it says so.
 */
export interface SharedPlan {
  /** not in the cluster yet: created by this apply */
  create: Manifest[]
  /** in the cluster (or unreadable): left as they are */
  kept: Manifest[]
  warnings: string[]
}

const PLATFORM_HINT = 'a product never changes its mesh or domain: change them in the platform project (dappmesh init mesh) and apply that'

/**
 * `live` maps each shared object to what the cluster holds (undefined: absent; 'forbidden': the
 * user may not read it). An object in the cluster is compared with the copy as the API server
 * would merge it (a server-side dry run, so defaults and removed fields count); when the user may
 * not even dry-run it, by the copy's own fields.
 */
export async function planShared(client: KubeRest, objects: Manifest[], live: Array<LiveShared | 'forbidden' | undefined>): Promise<SharedPlan> {
  const plan: SharedPlan = {create: [], kept: [], warnings: []}
  for (const [i, object] of objects.entries()) {
    const current = live[i]
    const what = `${object.kind} ${object.metadata.name}`
    if (current === undefined) {
      plan.create.push(object)
      continue
    }
    plan.kept.push(object)
    if (current === 'forbidden') {
      plan.warnings.push(`${what}: not readable with these credentials, so not compared with this project's copy and left as it is; ${PLATFORM_HINT}`)
      continue
    }
    if (object.kind === 'Namespace') continue
    const differences = await differencesFromLive(client, object, current)
    if (differences.length > 0) {
      plan.warnings.push(`${what} in the cluster differs from this project's copy (${differences.join(', ')}): left as it is; ${PLATFORM_HINT}, or update the copy`)
    }
  }
  return plan
}

async function differencesFromLive(client: KubeRest, object: Manifest, live: LiveShared): Promise<string[]> {
  const merged = await client.apply<LiveShared>(objectPath(object), object, {fieldManager: FIELD_MANAGER, force: true, dryRun: true}).catch((error: unknown) => {
    if (error instanceof KubeApiError && (error.status === 403 || error.status === 409)) return undefined
    throw error
  })
  if (merged) return differingPaths(live.spec, merged.spec, 'spec')
  // No right to dry-run it: what the copy says, field by field (defaults and removals unseen).
  return differingPaths(live.spec, 'spec' in object ? object.spec : undefined, 'spec', {onlyWanted: true})
}

/** The paths (`spec.governance.requireContracts`) at which two JSON values differ, at most 5. */
export function differingPaths(have: unknown, want: unknown, at: string, options: {onlyWanted?: boolean} = {}): string[] {
  const out: string[] = []
  const walk = (a: unknown, b: unknown, path: string) => {
    if (out.length >= 5 || isDeepStrictEqual(a, b)) return
    if (isObject(a) && isObject(b)) {
      const keys = new Set([...(options.onlyWanted ? [] : Object.keys(a)), ...Object.keys(b)])
      for (const key of [...keys].sort()) walk(a[key], b[key], `${path}.${key}`)
      return
    }
    if (options.onlyWanted && b === undefined) return
    out.push(path)
  }
  walk(have, want, at)
  return out
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Reads a shared object: undefined when absent, 'forbidden' when the user may not read it. */
export async function readShared(client: KubeRest, object: Manifest): Promise<LiveShared | 'forbidden' | undefined> {
  return client.find<LiveShared>(objectPath(object)).catch((error: unknown) => {
    if (error instanceof KubeApiError && error.status === 403) return 'forbidden' as const
    throw error
  })
}

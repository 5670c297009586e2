
import type {DataSchema} from '../../model/types.js'
import type {Resource} from '../../project/resource.js'
import type {Governance, SchemaState, SchemaVersion, ValidationContext} from '../context.js'
import type {Finding} from '../finding.js'
import {compareSemver, isSemver, parseSemver} from '../../semver.js'

type Compatibility = Governance['compatibility']

export interface Incompatibility {
  state: string
  field: string
  message: string
}

/**
 * Schema-registry semantics. BACKWARD: readers of the new version can read data written with the
 * old one (so no new required field, no type change, no narrowed enum). FORWARD: readers of the
 * old version can read new data (so no removed required field, no type change, no widened enum).
 * FULL: both. NONE: anything goes.
 */
export function compareStates(before: SchemaState, after: SchemaState, mode: Compatibility): Incompatibility[] {
  if (mode === 'NONE') return []
  const backward = mode === 'BACKWARD' || mode === 'FULL'
  const forward = mode === 'FORWARD' || mode === 'FULL'
  const out: Incompatibility[] = []
  const old = new Map(before.fields.map((f) => [f.name, f]))
  const now = new Map(after.fields.map((f) => [f.name, f]))
  const push = (field: string, message: string) => out.push({state: after.name, field, message})
  for (const [name, f] of old) {
    const g = now.get(name)
    if (!g) {
      if (forward || (backward && f.required)) push(name, `field "${name}" was removed`)
      continue
    }
    if (f.type !== g.type) push(name, `field "${name}" changed type from ${f.type} to ${g.type}`)
    if (backward && g.required && !f.required) push(name, `field "${name}" became required`)
    if (f.enum && g.enum) {
      const removed = f.enum.filter((v) => !g.enum!.includes(v))
      const added = g.enum.filter((v) => !f.enum!.includes(v))
      if (backward && removed.length > 0) push(name, `enum of "${name}" was narrowed (removed ${removed.join(', ')})`)
      if (forward && added.length > 0) push(name, `enum of "${name}" was widened (added ${added.join(', ')})`)
    } else if (backward && g.enum && !f.enum) {
      push(name, `field "${name}" was restricted to an enum`)
    }
  }
  for (const [name, g] of now) {
    if (!old.has(name) && backward && g.required) push(name, `required field "${name}" was added`)
  }
  return out
}

/** Versions of a schema in semver order; invalid versions are left to the schema rule. */
function ordered(schema: DataSchema): SchemaVersion[] {
  return schema.spec.versions.filter((v) => isSemver(v.version)).sort((a, b) => compareSemver(a.version, b.version))
}

export function isMajorBump(from: string, to: string): boolean {
  const [a, b] = [parseSemver(from), parseSemver(to)]
  return a !== undefined && b !== undefined && b.major > a.major
}

/** Incompatibilities between two versions, unless the second bumps the major version. */
function compareVersions(before: SchemaVersion, after: SchemaVersion, mode: Compatibility): Incompatibility[] {
  if (isMajorBump(before.version, after.version)) return []
  const out: Incompatibility[] = []
  for (const state of after.states) {
    const previous = before.states.find((s) => s.name === state.name)
    if (previous) out.push(...compareStates(previous, state, mode))
  }
  for (const s of before.states) {
    if ((mode === 'FORWARD' || mode === 'FULL') && !after.states.some((t) => t.name === s.name)) {
      out.push({state: s.name, field: '', message: `state "${s.name}" was removed`})
    }
  }
  return out
}

/** `breaking`: consecutive versions of each DataSchema, judged by the mesh's compatibility mode. */
export function checkBreaking(ctx: ValidationContext): Finding[] {
  const mode = ctx.governance.compatibility
  const out: Finding[] = []
  for (const r of ctx.all('DataSchema')) {
    const versions = ordered(r.object)
    for (let i = 1; i < versions.length; i++) {
      for (const problem of compareVersions(versions[i - 1], versions[i], mode)) {
        out.push(finding(r, versions[i], problem, mode, `since ${versions[i - 1].version}`))
      }
    }
  }
  return out
}

/**
 * `breaking` against an earlier copy of the project (`validate --against`): each schema's newest
 * version now against its newest version then.
 */
export function checkBreakingAgainst(ctx: ValidationContext, previous: ValidationContext): Finding[] {
  const mode = ctx.governance.compatibility
  const out: Finding[] = []
  for (const r of ctx.all('DataSchema')) {
    const then = previous.object('DataSchema', r.name)
    if (!then) continue
    const now = ordered(r.object).at(-1)
    const before = ordered(then).at(-1)
    if (!now || !before) continue
    if (compareSemver(now.version, before.version) < 0) {
      out.push(r.source.finding(['spec', 'versions'], {rule: 'breaking', severity: 'error', kind: r.kind, name: r.name, message: `newest version ${now.version} is older than ${before.version} in the earlier project; versions only move forward`}))
      continue
    }
    for (const problem of compareVersions(before, now, mode)) {
      const where = now.version === before.version ? `in place (version ${now.version} was already published; bump the version)` : `since ${before.version} in the earlier project`
      out.push(finding(r, now, problem, mode, where))
    }
  }
  return out
}

function finding(r: Resource<'DataSchema'>, version: SchemaVersion, problem: Incompatibility, mode: Compatibility, since: string): Finding {
  const v = r.object.spec.versions.indexOf(version)
  const s = version.states.findIndex((x) => x.name === problem.state)
  const f = s >= 0 ? version.states[s].fields.findIndex((x) => x.name === problem.field) : -1
  const at: Array<string | number> = ['spec', 'versions', v]
  if (s >= 0) at.push('states', s)
  if (f >= 0) at.push('fields', f)
  const parsed = parseSemver(version.version)
  const next = parsed ? `${parsed.major + 1}.0.0` : 'a new major version'
  return r.source.finding(at, {
    rule: 'breaking',
    severity: 'error',
    kind: r.kind,
    name: r.name,
    message: `${r.name}@${version.version}/${problem.state}: ${problem.message} ${since}, which breaks ${mode} compatibility; undo the change or release it as ${next}`,
  })
}

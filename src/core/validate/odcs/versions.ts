/**
 * The released versions of the Open Data Contract Standard (bitol-io, Apache-2.0) that dappmesh
 * checks contract documents against, each by the rules of its own official JSON Schema.
 */
export const ODCS_VERSIONS = ['3.0.0', '3.0.1', '3.0.2', '3.1.0'] as const
export type OdcsVersion = (typeof ODCS_VERSIONS)[number]

/** The version a DataContract's `specificationVersion` (with or without a leading v) names, if supported. */
export function odcsVersion(specificationVersion: string): OdcsVersion | undefined {
  const bare = specificationVersion.replace(/^v/, '')
  return (ODCS_VERSIONS as readonly string[]).includes(bare) ? (bare as OdcsVersion) : undefined
}

/** Whether `version` is `since` or later. */
export function atLeast(version: OdcsVersion, since: OdcsVersion): boolean {
  return ODCS_VERSIONS.indexOf(version) >= ODCS_VERSIONS.indexOf(since)
}

/**
 * The `apiVersion` values each version's schema accepts: its own and every earlier one, v2.2.x
 * included (the official schemas list them so that older documents still read).
 */
export function apiVersions(version: OdcsVersion): string[] {
  const own = ODCS_VERSIONS.slice(0, ODCS_VERSIONS.indexOf(version) + 1).reverse()
  return [...own.map((v) => `v${v}`), 'v2.2.2', 'v2.2.1', 'v2.2.0']
}

/** A property's `logicalType` values: 3.1.0 adds the time types. */
export function logicalTypes(version: OdcsVersion): string[] {
  return atLeast(version, '3.1.0')
    ? ['string', 'date', 'timestamp', 'time', 'number', 'integer', 'object', 'array', 'boolean']
    : ['string', 'date', 'number', 'integer', 'object', 'array', 'boolean']
}

/** Where 3.1.0 closed objects that 3.0.x leaves open (servers, quality, team, support, roles ...). */
export function closedEverywhere(version: OdcsVersion): boolean {
  return atLeast(version, '3.1.0')
}

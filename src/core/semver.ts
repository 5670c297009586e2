/*
 * The part of Semantic Versioning 2.0.0 that validation needs: strict parsing (no leading "v",
 * no leading zeros) and precedence. Kept here rather than loading the semver package, whose
 * module tree costs `dappmesh validate` about 8 ms of start-up for three functions.
 */

export interface SemVer {
  major: number
  minor: number
  patch: number
  prerelease: Array<string | number>
}

const NUMBER = '0|[1-9]\\d*'
const IDENTIFIER = `(?:${NUMBER}|\\d*[a-zA-Z-][0-9a-zA-Z-]*)`
const PATTERN = new RegExp(`^(${NUMBER})\\.(${NUMBER})\\.(${NUMBER})(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?(?:\\+[0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*)?$`)

/** The version, or undefined when `text` is not a strict semantic version. */
export function parseSemver(text: string): SemVer | undefined {
  const m = PATTERN.exec(text)
  if (!m) return undefined
  const [major, minor, patch] = [m[1], m[2], m[3]].map(Number)
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined
  const prerelease = m[4] ? m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : []
  return {major, minor, patch, prerelease}
}

export function isSemver(text: string): boolean {
  return parseSemver(text) !== undefined
}

/** Precedence of two valid versions: negative, zero or positive (build metadata is ignored). */
export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a)
  const y = parseSemver(b)
  if (!x || !y) throw new TypeError(`not a semantic version: ${x ? b : a}`)
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch || comparePrerelease(x.prerelease, y.prerelease)
}

function comparePrerelease(a: Array<string | number>, b: Array<string | number>): number {
  // A version without a prerelease ranks above one with.
  if (a.length === 0 || b.length === 0) return b.length - a.length
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i >= a.length) return -1
    if (i >= b.length) return 1
    const [p, q] = [a[i], b[i]]
    if (p === q) continue
    // Numeric identifiers rank below alphanumeric ones.
    if (typeof p === 'number' && typeof q === 'number') return p - q
    if (typeof p === 'number') return -1
    if (typeof q === 'number') return 1
    return p < q ? -1 : 1
  }
  return 0
}

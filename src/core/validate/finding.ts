export const RULES = ['yaml', 'unknown-kind', 'schema', 'naming', 'duplicate', 'ref', 'cycle', 'contract', 'breaking', 'governance', 'sql', 'storage', 'project'] as const
export type Rule = (typeof RULES)[number]
export type Severity = 'error' | 'warning'

/** One problem in a project, located precisely enough for an editor to jump to it. */
export interface Finding {
  /** Path relative to the project root, with forward slashes. */
  file: string
  line: number
  column: number
  kind?: string
  name?: string
  /** JSON pointer into the resource (or contract document) where the problem is. */
  path: string
  rule: Rule
  severity: Severity
  message: string
}

export function compareFindings(a: Finding, b: Finding): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule) || a.message.localeCompare(b.message)
}

export function toPointer(segments: ReadonlyArray<string | number>): string {
  return segments.map((s) => '/' + String(s).replaceAll('~', '~0').replaceAll('/', '~1')).join('')
}

export function fromPointer(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return []
  return pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
}

import type {ValidationResult} from '../validate.js'

/** JUnit XML: one testsuite per file, one testcase per resource or finding, failures for errors. */
export function formatJunit(result: ValidationResult): string {
  const byFile = new Map<string, ValidationResult['findings']>()
  for (const f of result.findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f])
  const suites: string[] = []
  for (const [file, findings] of byFile) {
    const cases = findings.map((f) => {
      const name = `${f.kind ?? 'document'}${f.name ? `/${f.name}` : ''} ${f.rule} ${f.path || '/'}`
      const body = `${f.file}:${f.line}:${f.column} ${f.message}`
      const inner = f.severity === 'error'
        ? `<failure type="${f.rule}" message="${xml(f.message)}">${xml(body)}</failure>`
        : `<system-out>${xml(`warning: ${body}`)}</system-out>`
      return `    <testcase classname="${xml(file)}" name="${xml(name)}" file="${xml(file)}" line="${f.line}">${inner}</testcase>`
    })
    const failures = findings.filter((f) => f.severity === 'error').length
    suites.push(`  <testsuite name="${xml(file)}" tests="${findings.length}" failures="${failures}" errors="0">\n${cases.join('\n')}\n  </testsuite>`)
  }
  if (suites.length === 0) {
    suites.push(`  <testsuite name="dappmesh validate" tests="1" failures="0" errors="0">\n    <testcase classname="dappmesh" name="project is valid"/>\n  </testsuite>`)
  }
  const tests = Math.max(result.findings.length, 1)
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="dappmesh validate" tests="${tests}" failures="${result.errors}">\n${suites.join('\n')}\n</testsuites>`
}

export function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({'<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;'})[c]!)
    // Control characters other than tab and newline are not allowed in XML 1.0.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
}

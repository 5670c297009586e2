import type {ChalkInstance} from 'chalk'

import {colourFor} from '../../cli/colour.js'

import type {ValidationResult} from '../validate.js'

/** Findings grouped by file, one line each: `line:column  severity  message  rule`. */
export function formatText(result: ValidationResult, chalk: ChalkInstance = colourFor(process.stdout)): string {
  const lines: string[] = []
  const byFile = new Map<string, ValidationResult['findings']>()
  for (const f of result.findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f])
  for (const [file, findings] of byFile) {
    lines.push(chalk.underline(file))
    const width = Math.max(...findings.map((f) => `${f.line}:${f.column}`.length))
    for (const f of findings) {
      const where = chalk.dim(`${f.line}:${f.column}`.padEnd(width))
      const severity = f.severity === 'error' ? chalk.red('error  ') : chalk.yellow('warning')
      const subject = f.kind ? chalk.dim(`${f.kind}${f.name ? `/${f.name}` : ''} `) : ''
      lines.push(`  ${where}  ${severity}  ${subject}${f.message}  ${chalk.dim(f.rule)}`)
    }
    lines.push('')
  }
  const others = result.skipped > 0 ? `; ${plural(result.skipped, 'YAML document')} of other tools skipped` : ''
  const summary = `${result.resources} resource${result.resources === 1 ? '' : 's'} in ${result.files} file${result.files === 1 ? '' : 's'}${others}`
  if (result.errors > 0) {
    lines.push(chalk.red.bold(`✖ ${plural(result.errors, 'error')}, ${plural(result.warnings, 'warning')} (${summary})`))
  } else if (result.warnings > 0) {
    lines.push(chalk.yellow(`✔ valid with ${plural(result.warnings, 'warning')} (${summary})`))
  } else {
    lines.push(chalk.green(`✔ valid (${summary})`))
  }
  return lines.join('\n')
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

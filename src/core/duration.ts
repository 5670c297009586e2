import {UsageError} from './errors.js'

const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** Parses a duration such as `500ms`, `30s`, `10m`, `1h`, `7d` or `1m30s` into milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim()
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy
  let total = 0
  let consumed = 0
  for (let match = part.exec(trimmed); match; match = part.exec(trimmed)) {
    total += Number(match[1]) * UNIT_MS[match[2]]
    consumed = part.lastIndex
  }
  if (trimmed === '' || consumed !== trimmed.length) {
    throw new UsageError(`"${text}" is not a duration`, ['write a number and a unit, e.g. 30s, 5m, 1h, 1m30s (units: ms, s, m, h, d)'])
  }
  return total
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const seconds = ms / 1000
  if (seconds < 60) return `${seconds.toFixed(1)}s`
  return `${Math.floor(seconds / 60)}m${Math.round(seconds % 60)}s`
}

/** The candidate nearest to `typed` by edit distance, when it is near enough to be a typo of it. */
export function closest(typed: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const c of candidates) {
    const d = editDistance(typed, c)
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  // Beyond half the word, a "suggestion" is a guess that misleads more than it helps.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(typed.length / 2)) ? best : undefined
}

/** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}

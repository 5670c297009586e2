/**
 * A unified line diff (the format of `diff -u` and `git diff`). The texts are the YAML of one
 * Kubernetes object, a few hundred lines at most, so a plain LCS table is fast enough and keeps
 * dappmesh free of a runtime dependency for it.
 */

type Op = {kind: ' ' | '-' | '+'; line: string; oldNo: number; newNo: number}

function splitLines(text: string): string[] {
  if (text === '') return []
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines
}

/** The edit script from `a` to `b`: common lines kept, the rest removed then added. */
export function diffLines(a: string[], b: string[]): Op[] {
  // Common prefix and suffix first: most object diffs change a line or two.
  let start = 0
  while (start < a.length && start < b.length && a[start] === b[start]) start++
  let endA = a.length
  let endB = b.length
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--
    endB--
  }
  const n = endA - start
  const m = endB - start
  // lcs[i][j]: length of the longest common subsequence of a[start+i..endA) and b[start+j..endB)
  const lcs: Uint32Array[] = Array.from({length: n + 1}, () => new Uint32Array(m + 1))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[start + i] === b[start + j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
    }
  }
  const ops: Op[] = []
  for (let k = 0; k < start; k++) ops.push({kind: ' ', line: a[k], oldNo: k, newNo: k})
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      ops.push({kind: ' ', line: a[start + i], oldNo: start + i, newNo: start + j})
      i++
      j++
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({kind: '-', line: a[start + i], oldNo: start + i, newNo: start + j})
      i++
    } else {
      ops.push({kind: '+', line: b[start + j], oldNo: start + i, newNo: start + j})
      j++
    }
  }
  for (let k = 0; k < a.length - endA; k++) ops.push({kind: ' ', line: a[endA + k], oldNo: endA + k, newNo: endB + k})
  return ops
}

/**
 * `--- a` / `+++ b` headers and `@@ -l,s +l,s @@` hunks with `context` lines around each change;
 * the empty string when the texts are equal.
 */
export function unifiedDiff(oldText: string, newText: string, options: {oldLabel?: string; newLabel?: string; context?: number} = {}): string {
  const a = splitLines(oldText)
  const b = splitLines(newText)
  const ops = diffLines(a, b)
  const context = options.context ?? 3
  const changed = ops.map((op, index) => (op.kind === ' ' ? -1 : index)).filter((index) => index >= 0)
  if (changed.length === 0) return ''

  // Group changes whose context windows touch into one hunk.
  const hunks: Array<[number, number]> = []
  for (const index of changed) {
    const from = Math.max(0, index - context)
    const to = Math.min(ops.length - 1, index + context)
    const last = hunks.at(-1)
    if (last && from <= last[1] + 1) last[1] = to
    else hunks.push([from, to])
  }
  const out = [`--- ${options.oldLabel ?? 'a'}`, `+++ ${options.newLabel ?? 'b'}`]
  for (const [from, to] of hunks) {
    const slice = ops.slice(from, to + 1)
    const oldCount = slice.filter((op) => op.kind !== '+').length
    const newCount = slice.filter((op) => op.kind !== '-').length
    // Line numbers are 1-based; an empty range is numbered by the line before it (as diff -u does).
    const oldStart = oldCount === 0 ? slice[0].oldNo : slice[0].oldNo + 1
    const newStart = newCount === 0 ? slice[0].newNo : slice[0].newNo + 1
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`)
    for (const op of slice) out.push(`${op.kind}${op.line}`)
  }
  return `${out.join('\n')}\n`
}

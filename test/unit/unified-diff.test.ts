import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {comparable} from '../../src/core/diff/normalize.js'
import {unifiedDiff} from '../../src/core/diff/unified.js'

describe('unified diff', () => {
  it('is empty for equal texts', () => {
    assert.equal(unifiedDiff('a\nb\n', 'a\nb\n'), '')
  })

  it('numbers hunks as diff -u does, with three lines of context', () => {
    const before = Array.from({length: 20}, (_, i) => `line ${i + 1}`).join('\n') + '\n'
    const after = before.replace('line 10\n', 'line ten\n').replace('line 19\n', '')
    const ours = unifiedDiff(before, after, {oldLabel: 'old', newLabel: 'new'})
    assert.equal(
      ours,
      ['--- old', '+++ new', '@@ -7,7 +7,7 @@', ' line 7', ' line 8', ' line 9', '-line 10', '+line ten', ' line 11', ' line 12', ' line 13',
        '@@ -16,5 +16,4 @@', ' line 16', ' line 17', ' line 18', '-line 19', ' line 20', ''].join('\n'),
    )
    // The same hunks as the system's diff, when it has one.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-diff-'))
    try {
      writeFileSync(path.join(dir, 'old'), before)
      writeFileSync(path.join(dir, 'new'), after)
      const system = spawnSync('diff', ['-u', 'old', 'new'], {cwd: dir, encoding: 'utf8'})
      if (system.status === 1) assert.deepEqual(ours.split('\n').slice(2), system.stdout.split('\n').slice(2))
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('shows a new text as all added and a removed one as all removed', () => {
    assert.equal(unifiedDiff('', 'a\nb\n'), '--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n')
    assert.equal(unifiedDiff('a\nb\n', ''), '--- a\n+++ b\n@@ -1,2 +0,0 @@\n-a\n-b\n')
  })

  it('merges changes whose context overlaps into one hunk', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\n'
    const after = 'A\nb\nc\nd\ne\nf\nG\n'
    assert.equal(unifiedDiff(before, after).split('\n').filter((l) => l.startsWith('@@')).length, 1)
  })
})

describe('diff normalization', () => {
  it('leaves out status and the server\'s bookkeeping, and sorts keys', () => {
    const live = {
      spec: {b: 1, a: 2},
      kind: 'DataStorage',
      apiVersion: 'dappmesh.io/v1alpha1',
      status: {conditions: []},
      metadata: {name: 'x', namespace: 'n', uid: 'u', resourceVersion: '5', generation: 2, creationTimestamp: 't', managedFields: [{}], labels: {l: 'v'}},
    }
    const clean = comparable(live)
    assert.deepEqual(clean, {apiVersion: 'dappmesh.io/v1alpha1', kind: 'DataStorage', metadata: {labels: {l: 'v'}, name: 'x', namespace: 'n'}, spec: {a: 2, b: 1}})
    assert.deepEqual(Object.keys(clean.spec), ['a', 'b'])
  })
})

import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'

import {parseYamlFile} from '../../src/core/project/source.js'
import {toPointer} from '../../src/core/validate/finding.js'
import {checkOdcsDocument} from '../../src/core/validate/odcs/check.js'
import {ODCS_VERSIONS} from '../../src/core/validate/odcs/versions.js'
import {fixture} from '../helpers/cli.js'

/*
 * The ODCS corpus: contracts written for each released version, valid ones and invalid ones with
 * one defect each (the file's name says which, its first line `# defect: <JSON pointer>` says
 * where). Every verdict was checked against the official JSON Schema of the version; here dappmesh
 * must reach the same verdict, and point at the defect.
 */
const CORPUS = fixture('odcs')

/** The valid files that warn, and where: what the standard allows but is almost surely a slip. */
const WARNINGS: Record<string, string[]> = {
  'open-objects-take-unknown-keys': ['/servers/0/requried', '/support/0/requried'],
  'team-as-list-deprecated': ['/team'],
}

interface Case {
  file: string
  verdict: 'valid' | 'invalid'
  text: string
}

function cases(version: string): Case[] {
  return (['valid', 'invalid'] as const).flatMap((verdict) =>
    readdirSync(path.join(CORPUS, version, verdict))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => ({file: `${version}/${verdict}/${f}`, verdict, text: readFileSync(path.join(CORPUS, version, verdict, f), 'utf8')})),
  )
}

/** The JSON pointer of the defect an invalid file declares on its first line. */
function defectOf(c: Case): string {
  const declared = /^# defect: (.*)$/m.exec(c.text)?.[1]
  assert.ok(declared !== undefined, `${c.file} does not say where its defect is`)
  return declared === '(the document)' ? '' : declared
}

describe('ODCS corpus: dappmesh agrees with the official schema of each version', () => {
  for (const version of ODCS_VERSIONS) {
    describe(`ODCS ${version}`, () => {
      const all = cases(version)

      it('has valid and invalid contracts to judge', () => {
        assert.ok(all.some((c) => c.verdict === 'valid') && all.some((c) => c.verdict === 'invalid'))
      })

      for (const c of all) {
        it(`${c.verdict === 'valid' ? 'accepts' : 'rejects'} ${path.basename(c.file, '.yaml')}`, () => {
          const parsed = parseYamlFile(c.file, c.text)
          assert.deepEqual(parsed.findings, [])
          const problems = checkOdcsDocument(version, parsed.documents[0].object)
          const errors = problems.filter((p) => p.severity === 'error')
          if (c.verdict === 'valid') {
            assert.deepEqual(errors.map((e) => e.message), [])
            // Warnings only where a valid file says it has something to warn about.
            const warnings = problems.filter((p) => p.severity === 'warning').map((p) => toPointer(p.segments))
            assert.deepEqual(warnings, WARNINGS[path.basename(c.file, '.yaml')] ?? [])
            return
          }
          const defect = defectOf(c)
          assert.ok(errors.length > 0, `${c.file} was accepted`)
          // Every finding is at the one defect, not somewhere else in the document.
          assert.deepEqual([...new Set(errors.map((e) => toPointer(e.segments)))], [defect], errors.map((e) => e.message).join('\n'))
        })
      }
    })
  }
})

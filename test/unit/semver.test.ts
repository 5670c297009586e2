import assert from 'node:assert/strict'
import semver from 'semver'

import {SEMVER as SEMVER_PATTERN} from '../../src/core/model/schemas/common.js'
import {compareSemver, isSemver, parseSemver} from '../../src/core/semver.js'

describe('semver (the subset validate uses)', () => {
  const valid = ['0.0.0', '1.2.3', '10.20.30', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-0.3.7', '1.0.0-x.7.z.92', '1.0.0-alpha+001', '1.0.0+20130313144700', '1.0.0-beta+exp.sha.5114f85', '1.0.0--1']
  const invalid = ['1', '1.2', '01.2.3', '1.02.3', '1.2.03', 'v1.2.3', '1.2.3-', '1.2.3-01', '1.2.3+', '1.2.3-a..b', ' 1.2.3', '1.2.3 ', '']

  it('accepts strict semantic versions and refuses the rest, as the semver package does in strict form', () => {
    for (const v of valid) assert.ok(isSemver(v), v)
    for (const v of invalid) assert.ok(!isSemver(v), v)
    for (const v of [...valid, ...invalid.filter((x) => !x.startsWith('v') && x.trim() === x)]) assert.equal(isSemver(v), semver.valid(v) !== null, v)
  })

  it('accepts every version the kinds\' pattern accepts, but a numeric prerelease with a leading zero (as the semver package)', () => {
    const pattern = new RegExp(SEMVER_PATTERN)
    for (const v of [...valid, ...invalid]) assert.equal(pattern.test(v) && !/-(.*\.)?0\d/.test(v), isSemver(v), v)
    assert.ok(pattern.test('1.2.3-01') && !isSemver('1.2.3-01') && semver.valid('1.2.3-01') === null)
  })

  it('orders by precedence as the semver package does (the spec\'s own example chain included)', () => {
    const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '2.0.0', '10.0.0']
    for (let i = 0; i < chain.length; i++) {
      for (let j = 0; j < chain.length; j++) {
        assert.equal(Math.sign(compareSemver(chain[i], chain[j])), Math.sign(i - j), `${chain[i]} vs ${chain[j]}`)
        assert.equal(Math.sign(compareSemver(chain[i], chain[j])), semver.compare(chain[i], chain[j]))
      }
    }
    assert.equal(compareSemver('1.0.0+build.1', '1.0.0+build.2'), 0, 'build metadata does not count')
    assert.deepEqual(parseSemver('1.2.3-rc.10'), {major: 1, minor: 2, patch: 3, prerelease: ['rc', 10]})
    assert.throws(() => compareSemver('1.0', '1.0.0'), /not a semantic version: 1.0/)
  })
})

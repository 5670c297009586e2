import assert from 'node:assert/strict'

import type {SchemaState} from '../../src/core/validate/context.js'
import {compareStates, isMajorBump} from '../../src/core/validate/rules/breaking.js'

const state = (fields: SchemaState['fields']): SchemaState => ({name: 'raw', fields})
const base = state([
  {name: 'id', type: 'string', required: true},
  {name: 'note', type: 'string'},
  {name: 'size', type: 'string', enum: ['s', 'm']},
])
const messages = (after: SchemaState, mode: 'BACKWARD' | 'FORWARD' | 'FULL' | 'NONE') => compareStates(base, after, mode).map((i) => i.message)

describe('breaking changes between two versions of a state', () => {
  it('BACKWARD allows removing a field and adding an optional one', () => {
    assert.deepEqual(messages(state([base.fields[0], base.fields[2], {name: 'extra', type: 'long'}]), 'BACKWARD'), [])
  })
  it('BACKWARD rejects a new required field, a type change, a field becoming required and a narrowed enum', () => {
    const after = state([
      {name: 'id', type: 'long', required: true},
      {name: 'note', type: 'string', required: true},
      {name: 'size', type: 'string', enum: ['s']},
      {name: 'sku', type: 'string', required: true},
    ])
    assert.deepEqual(messages(after, 'BACKWARD'), [
      'field "id" changed type from string to long',
      'field "note" became required',
      'enum of "size" was narrowed (removed m)',
      'required field "sku" was added',
    ])
  })
  it('FORWARD rejects removing a field and widening an enum, but allows a new required field', () => {
    const after = state([base.fields[0], {name: 'size', type: 'string', enum: ['s', 'm', 'l']}, {name: 'sku', type: 'string', required: true}])
    assert.deepEqual(messages(after, 'FORWARD'), ['field "note" was removed', 'enum of "size" was widened (added l)'])
  })
  it('FULL rejects what either direction rejects', () => {
    const after = state([base.fields[0], {name: 'size', type: 'string', enum: ['s', 'm']}, {name: 'sku', type: 'string', required: true}])
    assert.deepEqual(messages(after, 'FULL'), ['field "note" was removed', 'required field "sku" was added'])
  })
  it('NONE accepts anything', () => {
    assert.deepEqual(messages(state([{name: 'other', type: 'json', required: true}]), 'NONE'), [])
  })
  it('only a higher major version is a major bump', () => {
    assert.equal(isMajorBump('1.4.2', '2.0.0'), true)
    assert.equal(isMajorBump('1.4.2', '1.5.0'), false)
    assert.equal(isMajorBump('2.0.0', '1.0.0'), false)
  })
})

import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {type ImageRecord, imageFor, readImages, writeImages} from '../../src/core/build/images-file.js'
import {pinnedImage} from '../../src/core/render/images.js'
import {UserError} from '../../src/core/errors.js'

const digest = `sha256:${'c'.repeat(64)}`
const pushed: ImageRecord = {repository: '127.0.0.1:5000/sales/shop-orders', tag: 'abcdef012345', digest, builder: 'buildah', contextDigest: `sha256:${'a'.repeat(64)}`, builtAt: '2026-01-01T00:00:00.000Z'}
const local: ImageRecord = {repository: 'shop-customers', tag: '0123456789ab', imageId: `sha256:${'d'.repeat(64)}`, builder: 'buildah', contextDigest: `sha256:${'b'.repeat(64)}`, builtAt: '2026-01-01T00:00:00.000Z'}

describe('build: .dappmesh/images.json', () => {
  let root: string
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-images-'))
  })
  afterEach(() => rmSync(root, {recursive: true, force: true}))

  it('round-trips the records, sorted by entity, and leaves no temporary file behind', async () => {
    const file = await writeImages(root, {version: 1, images: {orders: pushed, customers: local}})
    assert.equal(file, path.join(root, '.dappmesh/images.json'))
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(file, 'utf8')).images), ['customers', 'orders'])
    assert.deepEqual(readImages(root), {version: 1, images: {customers: local, orders: pushed}})
    assert.deepEqual(readdirSync(path.join(root, '.dappmesh')), ['images.json'])
  })

  it('imageFor: the pinned reference repository@sha256 of a pushed image; nothing for a local one or an unknown entity', async () => {
    await writeImages(root, {version: 1, images: {orders: pushed, customers: local}})
    assert.equal(imageFor(root, 'orders'), `127.0.0.1:5000/sales/shop-orders@${digest}`)
    assert.equal(imageFor(root, 'customers'), undefined)
    assert.equal(imageFor(root, 'nope'), undefined)
  })

  it('a missing file reads as no records', () => {
    assert.deepEqual(readImages(root).images, {})
  })

  it('a damaged file is an error that says how to fix it (render and apply would silently lose the pins)', () => {
    mkdirSync(path.join(root, '.dappmesh'))
    writeFileSync(path.join(root, '.dappmesh/images.json'), '{"images": {"orders": ')
    assert.throws(() => readImages(root), (e: any) => e instanceof UserError && /images\.json is damaged: .*JSON/.test(e.message) && /dappmesh build/.test(e.suggestions[0]))
    writeFileSync(path.join(root, '.dappmesh/images.json'), '{"images": {"orders": {"repository": 1}}}')
    assert.throws(() => readImages(root), /the record of entity "orders" lacks a repository/)
    writeFileSync(path.join(root, '.dappmesh/images.json'), '[]')
    assert.throws(() => readImages(root), /not an object with an "images" object/)
  })

  it('a damaged file reads as no records for build, which writes it whole again', () => {
    mkdirSync(path.join(root, '.dappmesh'))
    writeFileSync(path.join(root, '.dappmesh/images.json'), '{"images": {"orders": ')
    assert.deepEqual(readImages(root, {damaged: 'empty'}).images, {})
  })

  it('is what render reads: a pushed image pinned by digest, a local one by tag', async () => {
    await writeImages(root, {version: 1, images: {orders: pushed, customers: local}})
    const recorded = readImages(root).images
    assert.deepEqual(pinnedImage('shop', 'orders', recorded.orders), {image: `127.0.0.1:5000/sales/shop-orders@${digest}`, pinned: true})
    assert.deepEqual(pinnedImage('shop', 'customers', recorded.customers), {image: 'shop-customers:0123456789ab', pinned: false})
  })

  it('replaces the file whole: a reader sees the old or the new records, never a mix', async () => {
    await writeImages(root, {version: 1, images: {orders: pushed}})
    await Promise.all(Array.from({length: 20}, (_, i) => writeImages(root, {version: 1, images: {orders: {...pushed, tag: `t${i}`}}})))
    assert.match(readImages(root).images.orders.tag, /^t\d+$/)
    assert.ok(existsSync(path.join(root, '.dappmesh/images.json')))
    assert.deepEqual(readdirSync(path.join(root, '.dappmesh')), ['images.json'])
  })
})

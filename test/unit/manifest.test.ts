import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {ROOT} from '../helpers/cli.js'

/** Every command file under dist/commands, as an oclif id (`cluster/create.js` → `cluster:create`). */
function commandFiles(dir: string, prefix: string[] = []): Array<{id: string; file: string}> {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    if (e.isDirectory()) return commandFiles(path.join(dir, e.name), [...prefix, e.name])
    if (!e.name.endsWith('.js')) return []
    return [{id: [...prefix, e.name.replace(/\.js$/, '')].join(':'), file: path.join(dir, e.name)}]
  })
}

describe('oclif.manifest.json', () => {
  it('is fresh: it lists every built command with the same flags and args (run `npm run manifest` after changing a command)', async () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8'))
    const built = commandFiles(path.join(ROOT, 'dist/commands'))
    assert.deepEqual(Object.keys(manifest.commands).sort(), built.map((c) => c.id).sort())
    for (const {id, file} of built) {
      const cmd = (await import(pathToFileURL(file).href)).default
      const entry = manifest.commands[id]
      const flags = Object.keys({...cmd.baseFlags, ...cmd.flags, ...(cmd.enableJsonFlag ? {json: true} : {})}).sort()
      assert.deepEqual(Object.keys(entry.flags).sort(), flags, `flags of ${id}`)
      assert.deepEqual(Object.keys(entry.args ?? {}).sort(), Object.keys(cmd.args ?? {}).sort(), `args of ${id}`)
      assert.equal(entry.summary ?? null, cmd.summary ?? null, `summary of ${id}`)
      assert.equal(entry.description ?? null, cmd.description ?? null, `description of ${id}`)
    }
  })
})

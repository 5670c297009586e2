import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {Engine} from '../../src/core/engine/session.js'
import {relationsOfFile} from '../../src/core/ingest/read.js'

/** DuckDB's own view of its allocator settings, as it prints them (e.g. `30.5 MiB`). */
async function allocator(engine: Engine): Promise<Record<string, string>> {
  const rows = await engine.rows<{name: string; value: string}>("SELECT name, value FROM duckdb_settings() WHERE name IN ('allocator_flush_threshold', 'allocator_background_threads')")
  return Object.fromEntries(rows.map((r) => [r.name, r.value]))
}

describe('the DuckDB engine of dappmesh run', () => {
  it('hands freed memory back at a quarter of --memory-limit, from a background thread', async () => {
    const engine = await Engine.open({memoryLimit: '128MB'})
    try {
      assert.deepEqual(await allocator(engine), {allocator_background_threads: 'true', allocator_flush_threshold: '30.5 MiB'})
    } finally {
      await engine.close()
    }
  })

  it("keeps DuckDB's own threshold (128 MiB) for a limit four times that or more, and without a limit", async () => {
    for (const memoryLimit of ['4GB', undefined]) {
      const engine = await Engine.open({memoryLimit})
      try {
        assert.deepEqual(await allocator(engine), {allocator_background_threads: 'true', allocator_flush_threshold: '128.0 MiB'}, String(memoryLimit))
      } finally {
        await engine.close()
      }
    }
  })

  it("reads a CSV line of 1.9 MB, near DuckDB's 2 MB line limit, within the reader's smaller buffers", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-csv-'))
    const engine = await Engine.open()
    try {
      const file = path.join(dir, 'long.csv')
      writeFileSync(file, `id,note\na,${'x'.repeat(1_900_000)}\nb,short\n`)
      const {plain} = await relationsOfFile(engine, 'long', file, 'csv', 'long.csv')
      assert.deepEqual(await engine.rows(`SELECT id, length(note) AS length FROM ${plain} ORDER BY id`), [{id: 'a', length: '1900000'}, {id: 'b', length: '5'}])
    } finally {
      await engine.close()
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

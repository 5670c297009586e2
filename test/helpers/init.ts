import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

// Deterministic output for every test: no colour, a fixed width, no debug noise.
process.env.FORCE_COLOR = '0'
process.env.NO_COLOR = '1'
process.env.COLUMNS = '120'
delete process.env.DEBUG

// The sql rule remembers bind results in a file (src/core/validate/sql/cache.ts): tests, and the
// CLI processes they start, use a file of this run's own, so no result of an earlier run is reused.
const sqlCacheDir = mkdtempSync(join(tmpdir(), 'dappmesh-sql-cache-'))
process.env.DAPPMESH_SQL_CACHE = join(sqlCacheDir, 'sql-bind.json')
process.on('exit', () => rmSync(sqlCacheDir, {recursive: true, force: true}))

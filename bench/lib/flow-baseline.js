// The limit `dappmesh run` is measured against: the same SQL as test/fixtures/run-shop's flows, run
// by a plain script on @duckdb/node-api into a DuckDB file, with no checks at all.
// Usage: node flow-baseline.js SALES.(parquet|csv) CUSTOMERS.parquet DB_FILE [MEMORY_LIMIT]
// With MEMORY_LIMIT (e.g. 512MB) DuckDB spills to disk beyond it, as `dappmesh run --memory-limit`.
import {DuckDBInstance} from '@duckdb/node-api'

const [sales, customers, file, memoryLimit] = process.argv.slice(2)
const db = await DuckDBInstance.create(file, {
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  ...(memoryLimit && {memory_limit: memoryLimit}),
})
const c = await db.connect()
const q = (s) => `'${s.replaceAll("'", "''")}'`
const read = (f) => (f.endsWith('.csv') ? `read_csv(${q(f)})` : `read_parquet(${q(f)})`)
for (const sql of [
  `CREATE TABLE customers__raw AS SELECT * FROM ${read(customers)}`,
  `CREATE TABLE raw AS SELECT * FROM ${read(sales)}`,
  'CREATE TABLE clean AS SELECT * FROM raw WHERE amount > 0',
  'CREATE TABLE enriched AS SELECT c.id, k.region, c.amount FROM clean AS c JOIN customers__raw AS k ON c.customer = k.id',
  'CREATE TABLE totals AS SELECT region, count(*) AS orders, sum(amount) AS revenue FROM enriched GROUP BY region',
]) {
  await c.run(sql)
}
c.closeSync()
db.closeSync()

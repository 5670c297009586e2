/**
 * What dappmesh can do with a storage engine's data beyond running one server. Every engine runs
 * as a single node today (one container, no replication set up between pods): more than one
 * replica would be independent databases behind one Service, each write landing in one of them.
 * `validate` and the CRD refuse it, and the reconciler never makes more than this.
 */
export const MAX_REPLICAS: Readonly<Record<string, number>> = {
  postgresql: 1,
  surrealdb: 1,
  tidb: 1,
  doris: 1,
  clickhouse: 1,
  minio: 1,
  s3: 1,
  duckdb: 1,
}

/** Engines whose `backup` dappmesh implements: none yet, so `backup` is refused rather than ignored. */
export const BACKUP_ENGINES: readonly string[] = []

export function maxReplicas(engine: string): number {
  return MAX_REPLICAS[engine] ?? 1
}

import type {RunRecord} from './runs.js'
import {type RuntimeStore, quoteIdent, quoteLiteral} from './store.js'

/** The runs table, beside the product's rows in its storage (the `__dappmesh_` tables are the runtime's own). */
export const RUNS_TABLE = '__dappmesh_runs'

/** A run and the states its workflow writes (to answer "last run" per port after a restart). */
export interface LoggedRun {
  record: RunRecord
  states: string[]
}

/**
 * The runs of a runtime, kept in one of its product's storage files, so that GET /v1/runs/<id>
 * and each port's last run survive a restart (a rollout, an evicted pod, a crash). A record is
 * written when its run starts and again when it ends; one that a restart finds still `running`
 * was cut off by the process dying, and nothing of it was published (runs publish atomically at
 * their end), so it is recorded as abandoned. Writes are serialized: the end of a short run can
 * never be overwritten by its start.
 */
export class RunLog {
  private last: Promise<void> = Promise.resolve()
  private readonly relation: string

  constructor(
    private readonly store: RuntimeStore,
    storage: string,
    /** How many runs the table keeps (the oldest go first). */
    private readonly kept = 1000,
  ) {
    this.relation = `${quoteIdent(storage)}.main.${quoteIdent(RUNS_TABLE)}`
  }

  /** The last `limit` runs, oldest first; those a dead process left running are marked abandoned (and saved so). */
  async restore(limit: number): Promise<LoggedRun[]> {
    await this.store.run(`CREATE TABLE IF NOT EXISTS ${this.relation} (id VARCHAR PRIMARY KEY, workflow VARCHAR NOT NULL, status VARCHAR NOT NULL, states VARCHAR NOT NULL, record VARCHAR NOT NULL)`)
    const rows = await this.store.rows<{record: string; states: string}>(`SELECT record, states FROM (SELECT * FROM ${this.relation} ORDER BY id DESC LIMIT ${Math.max(0, Math.floor(limit))}) ORDER BY id`)
    const runs = rows.map((r) => ({record: JSON.parse(r.record) as RunRecord, states: JSON.parse(r.states) as string[]}))
    for (const run of runs) {
      if (run.record.status !== 'running') continue
      run.record.status = 'abandoned'
      run.record.error = 'the runtime stopped during the run (nothing of it was published)'
      for (const a of run.record.activities) if (a.status === 'pending' || a.status === 'running') a.status = 'skipped'
      await this.save(run.record, run.states)
    }
    return runs
  }

  /** One run older than those kept in memory, or undefined. */
  async find(id: string): Promise<RunRecord | undefined> {
    await this.last
    const [row] = await this.store.rows<{record: string}>(`SELECT record FROM ${this.relation} WHERE id = ${quoteLiteral(id)}`)
    return row ? (JSON.parse(row.record) as RunRecord) : undefined
  }

  /** Settles once every write queued so far is done (before the store closes). */
  flush(): Promise<void> {
    return this.last
  }

  /** Writes the record as it is now (after the writes queued before it). */
  save(record: RunRecord, states: string[]): Promise<void> {
    const values = [record.id, record.workflow, record.status, JSON.stringify(states), JSON.stringify(record)].map(quoteLiteral).join(', ')
    const write = async () => {
      await this.store.run(`INSERT OR REPLACE INTO ${this.relation} VALUES (${values})`)
      if (record.status !== 'running') await this.store.run(`DELETE FROM ${this.relation} WHERE id < (SELECT min(id) FROM (SELECT id FROM ${this.relation} ORDER BY id DESC LIMIT ${this.kept}))`)
    }
    const next = this.last.then(write)
    this.last = next.catch(() => {})
    return next
  }
}

import {HttpError} from '../errors.js'
import type {RequestContext} from '../server.js'

/**
 * POST /v1/workflows/<name>/runs: starts a run of the workflow and answers 202 with the run at once
 * (Location names it; poll GET /v1/runs/<id>). One run at a time: 409 while another is going.
 */
export async function startRun(ctx: RequestContext, name: string): Promise<void> {
  const {runtime, res} = ctx
  const workflow = runtime.model.workflows.get(name)
  if (!workflow) {
    throw new HttpError(404, `no workflow "${name}" in product ${runtime.model.product}; its workflows are ${[...runtime.model.workflows.keys()].join(', ') || '(none)'}`, {workflow: name})
  }
  // Running a workflow rewrites its flow's states: it needs write on their storage (or to be the
  // product's own runtime account, which its scheduled CronJobs present).
  const states = runtime.model.flowStates.get(workflow.spec.flow) ?? []
  for (const storage of new Set(states.map((s) => runtime.storageOf(s)))) await ctx.require({storage, access: 'write', ownRuntime: true})
  const busy = runtime.runs.busy
  if (busy) throw new HttpError(409, `run ${busy} is still going; wait for it (GET /v1/runs/${busy}) and try again`, {run: busy})
  const record = runtime.runs.start(name, workflow)
  res.setHeader('Location', `/v1/runs/${record.id}`)
  ctx.json(202, record)
}

export async function getRun(ctx: RequestContext, id: string): Promise<void> {
  const record = await ctx.runtime.runs.get(id)
  if (!record) throw new HttpError(404, `no run "${id}" in this runtime (it keeps the last 1000 runs of its product)`, {run: id})
  ctx.json(200, record)
}

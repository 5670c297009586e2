import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../core/cli/base-command.js'
import {kubeFlags} from '../core/cli/kube-flags.js'
import {UsageError} from '../core/errors.js'
import {parseSize} from '../core/size.js'

export interface ServeResult {
  url: string
  product: string
  /** How the runtime ended: a signal (exit 0). */
  stoppedBy: string
}

export default class Serve extends BaseCommand {
  static override summary = 'Run the product runtime: the HTTP API that serves output ports, takes pushes into input ports and runs workflows.'
  static override description = `The runtime of a data product (DESIGN §7): GET /v1/ports, GET /v1/ports/PORT (json, ndjson, csv or parquet; limit, cursor, field filters, fields, ETag), /contract, /schema, POST /v1/inputs/PORT (NDJSON, CSV, JSON array or Parquet, schema-checked, Idempotency-Key), POST /v1/workflows/NAME/runs, GET /v1/runs/ID, /healthz, /readyz, /metrics and /v1/openapi.json. See the README for the API.

Locally it serves the project in DIR from .dappmesh/data on 127.0.0.1 with no token checks unless --auth. In the cluster (--product NAME -n NAMESPACE) it reads its product's model from the API server and follows changes with a watch, and checks every caller's Kubernetes token with a TokenReview against the product's DataRoles (read for ports, write for pushes and runs).

SIGTERM or Ctrl-C stops it: a run in progress is abandoned (nothing of it is published) and the process exits 0.

Exit codes: 0 stopped by a signal, 1 invalid project or storage problem, 2 usage (port in use, unsupported storage), 3 cluster unreachable.`

  static override examples = [
    {description: 'Serve the product in the current directory on http://127.0.0.1:8080', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Read a port as CSV', command: 'curl "http://127.0.0.1:8080/v1/ports/orders-api?format=csv&limit=10"'},
    {description: 'In the cluster (what the operator runs)', command: '<%= config.bin %> <%= command.id %> --product orders -n sales --host 0.0.0.0 --data-dir /data'},
  ]

  static override args = {
    dir: Args.directory({description: 'directory of the data product (local runtime)', exists: false}),
  }

  static override flags = {
    ...kubeFlags,
    product: Flags.string({description: 'serve this product as installed in the cluster (with -n); its model is read from the API server and followed'}),
    port: Flags.integer({char: 'p', description: 'port to listen on', default: 8080, min: 0, max: 65_535}),
    host: Flags.string({description: 'address to bind (the cluster runtime passes 0.0.0.0)', default: '127.0.0.1'}),
    'data-dir': Flags.string({description: 'where the duckdb files live (default: DIR/.dappmesh/data; in the cluster the volume, e.g. /data)', helpValue: 'DIR'}),
    auth: Flags.boolean({description: 'check callers\' Kubernetes tokens (TokenReview) against the DataRoles; on by default with --product', allowNo: true}),
    'max-body': Flags.string({description: 'largest push accepted, e.g. 64MiB (larger: 413)', default: '64MiB'}),
  }

  async run(): Promise<ServeResult> {
    const {args, flags} = await this.parse(Serve)
    if (flags.product && args.dir) throw new UsageError('give a DIR (local runtime) or --product (cluster runtime), not both')
    const {startServe} = await import('../core/runtime/serve.js')
    const handle = await startServe({
      dir: args.dir ?? '.',
      product: flags.product,
      namespace: flags.namespace,
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      host: flags.host,
      port: flags.port,
      dataDir: flags['data-dir'],
      auth: flags.auth ?? Boolean(flags.product),
      maxBody: parseSize(flags['max-body']),
    })
    this.logToStderr(`dappmesh serve: product ${handle.runtime.model.product} on ${handle.url} (${handle.runtime.options.auth ? 'tokens checked' : 'no token checks'})`)
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'))
      process.once('SIGINT', () => resolve('SIGINT'))
    })
    this.logToStderr(`dappmesh serve: ${signal}: stopping${handle.runtime.runs.busy ? ` (abandoning run ${handle.runtime.runs.busy})` : ''}`)
    await handle.stop()
    return {url: handle.url, product: handle.runtime.model.product, stoppedBy: signal}
  }
}

import {defaultImage} from '../operator-install/manifests.js'
import {useOperatorV8Flags} from './footprint.js'
import {type OperatorResult, parseLoops, runOperator} from './operator.js'
import {parseNamespaces, parseSelector} from './scope.js'

/** The flags of `operator run`, parsed (by oclif, or by the lean entry in fast-entry.ts). */
export interface OperatorRunFlags {
  kubeconfig?: string
  context?: string
  namespace?: string[]
  selector?: string
  only?: string
  'health-port'?: number
  'metrics-port'?: number
  'bind-address': string
  concurrency: number
  'leader-elect'?: boolean
  'leader-election-namespace': string
  'runtime-image'?: string
  'kube-qps'?: number
  'kube-burst'?: number
  'install-crds': boolean
}

/**
 * `operator run` itself, whichever entry parsed its flags: runs the loops until SIGINT or SIGTERM,
 * then finishes the reconciles in progress and resolves.
 */
export async function runOperatorFromFlags(flags: OperatorRunFlags, version: string): Promise<OperatorResult> {
  useOperatorV8Flags()
  const only = flags.only === undefined ? undefined : parseLoops(flags.only)
  const scope = {
    namespaces: flags.namespace === undefined ? undefined : parseNamespaces(flags.namespace),
    selector: flags.selector === undefined ? undefined : parseSelector(flags.selector),
  }
  const abort = new AbortController()
  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`${signal}: stopping after the reconciles in progress\n`)
    abort.abort()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    return await runOperator(
      {
        kubeconfig: flags.kubeconfig,
        context: flags.context,
        only,
        healthPort: flags['health-port'],
        metricsPort: flags['metrics-port'],
        bindAddress: flags['bind-address'],
        concurrency: flags.concurrency,
        runtimeImage: flags['runtime-image'] ?? defaultImage(version),
        installCrds: flags['install-crds'],
        kubeQps: flags['kube-qps'],
        kubeBurst: flags['kube-burst'],
        leaderElect: flags['leader-elect'],
        leaderElectionNamespace: flags['leader-election-namespace'],
        scope,
        log: (level, message) => process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`),
        onListening: (what, url) => process.stderr.write(`${what} endpoints on ${url}\n`),
      },
      abort.signal,
    )
  } finally {
    process.removeListener('SIGINT', stop)
    process.removeListener('SIGTERM', stop)
  }
}

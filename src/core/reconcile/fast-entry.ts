/*
 * `dappmesh operator run` without oclif: a long-running process should carry only what it runs.
 * oclif, its command tree and the CLI's other commands cost memory for the life of the process
 * and CPU at every start (a pod restarting, a leader taking over). bin/run.js asks this module
 * first; anything it does not recognise exactly (--help, --json, an unknown or repeated flag, a
 * value oclif would refuse) returns false before a byte is written, and oclif runs the command as
 * always, with its own messages. test/unit/operator-fast-entry.test.ts checks that both entries
 * know the same flags.
 */
import {readFileSync} from 'node:fs'
import {parseArgs} from 'node:util'

import {writeFailure} from '../cli/error-output.js'
import {ExitCode, isUserError} from '../errors.js'
import {type OperatorRunFlags, runOperatorFromFlags} from './run-flags.js'

type Option = {type: 'string' | 'boolean'; short?: string; multiple?: boolean}

/** Every flag of `operator run`, as node's parseArgs knows them; integers are checked below. */
export const FAST_OPTIONS: Record<string, Option> = {
  kubeconfig: {type: 'string'},
  context: {type: 'string'},
  namespace: {type: 'string', short: 'n', multiple: true},
  selector: {type: 'string', short: 'l'},
  only: {type: 'string'},
  'health-port': {type: 'string'},
  'metrics-port': {type: 'string'},
  'bind-address': {type: 'string'},
  concurrency: {type: 'string'},
  'leader-elect': {type: 'boolean'},
  'leader-election-namespace': {type: 'string'},
  'runtime-image': {type: 'string'},
  'kube-qps': {type: 'string'},
  'kube-burst': {type: 'string'},
  'install-crds': {type: 'boolean'},
  'no-install-crds': {type: 'boolean'},
}

/** Integer flags and their bounds, as the command declares them. */
export const FAST_INTEGERS: Record<string, {min: number; max?: number}> = {
  'health-port': {min: 0, max: 65_535},
  'metrics-port': {min: 0, max: 65_535},
  concurrency: {min: 1, max: 64},
  'kube-qps': {min: 1},
  'kube-burst': {min: 1},
}

/** The parsed flags, when `argv` (after `operator run`) is an invocation this entry runs exactly as the command would. */
export function parseFastOperatorRun(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorRunFlags | undefined {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({args: argv, options: FAST_OPTIONS, strict: true, allowPositionals: false})
  } catch {
    return undefined
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>
  // A flag given twice, or both --install-crds and --no-install-crds: oclif's to judge.
  const names = argv.filter((a) => a.startsWith('-')).map((a) => a.replace(/=.*$/, ''))
  const single = names.filter((n) => n !== '-n' && n !== '--namespace')
  if (new Set(single).size !== single.length || (values['install-crds'] && values['no-install-crds'])) return undefined
  const integers: Record<string, number | undefined> = {}
  for (const [name, {min, max}] of Object.entries(FAST_INTEGERS)) {
    const text = values[name] as string | undefined
    if (text === undefined) continue
    if (!/^-?\d+$/.test(text)) return undefined
    const value = Number(text)
    if (value < min || (max !== undefined && value > max)) return undefined
    integers[name] = value
  }
  const text = (name: string) => values[name] as string | undefined
  return {
    kubeconfig: text('kubeconfig'),
    context: text('context'),
    namespace: values.namespace as string[] | undefined,
    selector: text('selector'),
    only: text('only'),
    'health-port': integers['health-port'],
    'metrics-port': integers['metrics-port'],
    'bind-address': text('bind-address') ?? '127.0.0.1',
    concurrency: integers.concurrency ?? 2,
    'leader-elect': values['leader-elect'] === true ? true : undefined,
    'leader-election-namespace': text('leader-election-namespace') ?? 'dappmesh-system',
    'runtime-image': text('runtime-image') ?? (env.DAPPMESH_RUNTIME_IMAGE || undefined),
    'kube-qps': integers['kube-qps'],
    'kube-burst': integers['kube-burst'],
    'install-crds': values['no-install-crds'] !== true,
  }
}

/** Runs `operator run` when `argv` is a plain invocation of it; false (having written nothing) otherwise. */
export async function tryFastOperatorRun(argv: string[]): Promise<boolean> {
  if (process.env.DAPPMESH_FAST_ENTRY === '0' || argv[0] !== 'operator' || argv[1] !== 'run') return false
  const flags = parseFastOperatorRun(argv.slice(2))
  if (!flags) return false
  const version = String((JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {version?: unknown}).version)
  try {
    await runOperatorFromFlags(flags, version)
  } catch (error) {
    if (isUserError(error)) {
      writeFailure({message: error.message, exit: error.exit, suggestions: error.suggestions}, false)
      process.exitCode = error.exit
    } else {
      if (process.env.DEBUG && /dappmesh/.test(process.env.DEBUG)) process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`)
      writeFailure({message: `internal error: ${(error as Error)?.message ?? error}\nThis is a bug in dappmesh. Run again with DEBUG=dappmesh* to see the stack, and report it.`, exit: ExitCode.failed, suggestions: []}, false)
      process.exitCode = ExitCode.failed
    }
  }
  return true
}

import {Flags} from '@oclif/core'

/** The flags every command that talks to a cluster takes. */
export const kubeFlags = {
  kubeconfig: Flags.string({description: 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)', helpValue: 'FILE'}),
  context: Flags.string({description: 'kubeconfig context (default: its current context)'}),
  namespace: Flags.string({char: 'n', description: 'namespace (default: the product\'s domain namespace)'}),
}

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/** `90s`, `5m`, `1h30m` → milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0)
}

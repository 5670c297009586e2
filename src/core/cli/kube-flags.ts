import {Flags} from '@oclif/core'

/** The flags every command that talks to a cluster takes. */
export const kubeFlags = {
  kubeconfig: Flags.string({description: 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)', helpValue: 'FILE'}),
  context: Flags.string({description: 'kubeconfig context (default: its current context)'}),
  namespace: Flags.string({char: 'n', description: 'namespace (default: the product\'s domain namespace)'}),
}

/** Durations for --timeout and friends: one parser for the whole CLI. */
export {parseDuration} from '../duration.js'

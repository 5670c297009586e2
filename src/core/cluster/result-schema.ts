import type {FromSchema} from 'json-schema-to-ts'

const provider = {type: 'string', enum: ['kwok', 'kind', 'local'], description: 'kwok: local processes, simulated nodes; kind: Docker containers; local: a real node on this machine (containerd, kubelet)'} as const
const name = {type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 40, description: 'cluster name'} as const
const context = {type: 'string', minLength: 1, description: 'the kubeconfig context of the cluster: dappmesh-<name> unless --context said otherwise'} as const

/**
 * The shapes of `dappmesh cluster create|delete|list --json`: the documented contract for tools
 * that read them. The TypeScript types are derived from them, and the tests check the CLI's
 * output against them.
 */
export const clusterCreateResultSchema = {
  $id: 'https://dappmesh.io/schemas/cluster-create.json',
  title: 'dappmesh cluster create',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'provider', 'context', 'kubeconfig', 'server', 'kubernetesVersion', 'crds'],
  properties: {
    name,
    provider,
    context,
    kubeconfig: {type: 'string', description: 'the kubeconfig file the context was written to (and made current in)'},
    server: {type: 'string', description: 'URL of the API server'},
    kubernetesVersion: {type: 'string', description: 'the API server\'s version, e.g. v1.36.3'},
    crds: {type: 'array', items: {type: 'string'}, description: 'names of the CRDs installed and Established'},
    volumes: {type: 'integer', minimum: 0, description: 'kwok and local: pre-made PersistentVolumes of the default StorageClass standard (local: each a directory on the node)'},
  },
} as const

export const clusterDeleteResultSchema = {
  $id: 'https://dappmesh.io/schemas/cluster-delete.json',
  title: 'dappmesh cluster delete',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'provider', 'kubeconfig', 'context', 'contextRemoved'],
  properties: {
    name,
    provider,
    kubeconfig: {type: 'string', description: 'the kubeconfig file the context was removed from'},
    context,
    contextRemoved: {type: 'boolean', description: 'false when the kubeconfig had no such context'},
  },
} as const

export const listedClusterSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'provider', 'status'],
  properties: {
    name: {type: 'string'},
    provider,
    status: {type: 'string', enum: ['running', 'stopped', 'unknown'], description: 'running: every component process (kwok, local) is alive; kind clusters are unknown'},
    context,
  },
} as const

export const clusterListResultSchema = {
  $id: 'https://dappmesh.io/schemas/cluster-list.json',
  title: 'dappmesh cluster list',
  type: 'object',
  additionalProperties: false,
  required: ['clusters'],
  properties: {
    clusters: {type: 'array', items: {...listedClusterSchema, required: [...listedClusterSchema.required, 'context']}},
  },
} as const

export type CreateClusterResult = FromSchema<typeof clusterCreateResultSchema>
export type DeleteClusterResult = FromSchema<typeof clusterDeleteResultSchema>
export type ListedCluster = Omit<FromSchema<typeof listedClusterSchema>, 'context'>
export type ClusterListResult = FromSchema<typeof clusterListResultSchema>

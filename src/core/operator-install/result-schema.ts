/** The shape of `dappmesh operator install --json`: what was applied, or with --dry-run the manifests. */
export const operatorInstallResultSchema = {
  $id: 'https://dappmesh.io/schemas/operator-install.json',
  title: 'dappmesh operator install',
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['image', 'crds', 'objects'],
      properties: {
        image: {type: 'string'},
        crds: {enum: ['current', 'installed', 'upgraded']},
        objects: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'name', 'action'],
            properties: {kind: {type: 'string'}, name: {type: 'string'}, namespace: {type: 'string'}, action: {enum: ['created', 'configured', 'unchanged']}},
          },
        },
        available: {type: 'boolean', description: 'with --wait: the Deployment was seen Available'},
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['dryRun', 'image', 'manifests'],
      properties: {
        dryRun: {const: true},
        image: {type: 'string'},
        manifests: {type: 'array', items: {type: 'object', required: ['apiVersion', 'kind', 'metadata']}},
      },
    },
  ],
} as const

/** The shape of `dappmesh operator uninstall --json`. */
export const operatorUninstallResultSchema = {
  $id: 'https://dappmesh.io/schemas/operator-uninstall.json',
  title: 'dappmesh operator uninstall',
  type: 'object',
  additionalProperties: false,
  required: ['deleted'],
  properties: {
    deleted: {
      type: 'array',
      items: {type: 'object', additionalProperties: false, required: ['kind', 'name'], properties: {kind: {type: 'string'}, name: {type: 'string'}}},
    },
  },
} as const

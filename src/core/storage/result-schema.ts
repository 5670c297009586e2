/** The `--json` result of `dappmesh storage users` (what the runtime's init container runs). */
export const storageUsersResultSchema = {
  $id: 'https://dappmesh.io/schemas/storage-users.json',
  title: 'dappmesh storage users',
  type: 'object',
  additionalProperties: false,
  required: ['storages'],
  properties: {
    storages: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['storage', 'changes'],
        properties: {
          storage: {type: 'string'},
          changes: {type: 'array', items: {type: 'string'}, description: 'what was changed (roles made, attributes put back, passwords set, ownership moved), never a password; empty when all was so'},
        },
      },
    },
  },
} as const

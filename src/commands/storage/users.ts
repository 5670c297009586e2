import {Flags} from '@oclif/core'

import {BaseCommand} from '../../core/cli/base-command.js'
import {parseDuration} from '../../core/cli/kube-flags.js'
import type {StorageUsersResult} from '../../core/storage/access-users.js'


export default class StorageUsers extends BaseCommand {
  static override hidden = true
  static override summary = "Make a postgresql storage's read, write and admin users and their grants (the runtime's init container runs it)."
  static override description = `Connects to each --storage as its root user (DAPPMESH_STORAGE_<NAME>_URL) and makes its per-access users true: the roles, their passwords (DAPPMESH_ACCESS_<NAME>_<READ|WRITE|ADMIN>_<USERNAME|PASSWORD>, from their Secrets), the ownership of the --schema and the grants. Running it again changes nothing; a changed password is set. Passwords are never printed.

Exit codes: 0 done, 1 the database refused, 2 usage (a variable missing), 3 the storage is unreachable.`

  static override flags = {
    storage: Flags.string({description: 'a postgresql DataStorage of the product (repeatable)', required: true, multiple: true}),
    schema: Flags.string({description: "the product's schema (its name)", required: true}),
    wait: Flags.string({description: 'how long to keep trying a storage that is not reachable yet', default: '5m'}),
  }

  async run(): Promise<StorageUsersResult> {
    const {flags} = await this.parse(StorageUsers)
    const {ensureStorageUsers} = await import('../../core/storage/access-users.js')
    const result = await ensureStorageUsers({
      storages: flags.storage,
      schema: flags.schema,
      env: process.env,
      waitMs: parseDuration(flags.wait),
      onRetry: (message) => this.logToStderr(`${message}; trying again`),
    })
    for (const {storage, changes} of result.storages) this.log(`storage ${storage}: ${changes.length === 0 ? 'access users already as they should be' : changes.join('; ')}`)
    return result
  }
}

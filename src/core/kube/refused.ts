import {UserError} from '../errors.js'
import {KubeApiError} from './rest.js'

/**
 * An answer of the API server that no caller turned into its own message (forbidden by RBAC, an
 * admission webhook, a server error) is the user's to act on, not a dappmesh bug: say what the
 * server said. 403 messages name the verb and the resource.
 */
export function refused(error: unknown): unknown {
  if (!(error instanceof KubeApiError)) return error
  const suggestions = error.status === 403 ? ['Ask for RBAC permission for that verb and resource, or use another --context.'] : []
  return new UserError(`the API server refused a request (HTTP ${error.status}${error.reason ? ` ${error.reason}` : ''}): ${error.message}`, {suggestions, cause: error})
}

/**
 * How the operator names a product's children in the domain's namespace, and the limits those
 * names must keep: `validate` checks them, so a product never fails only once in the cluster.
 */
export function childName(product: string, name: string): string {
  return `${product}-${name}`
}

/** The product's runtime StatefulSet, ServiceAccount and Service (DESIGN §7). */
export function runtimeName(product: string): string {
  return childName(product, 'runtime')
}

/** Services (DNS-1035 labels), Deployments' pods and most names in a pod's labels. */
export const NAME_MAX = 63
/**
 * StatefulSets and CronJobs: the controller appends a suffix of up to 11 characters to make its
 * own objects' names and labels (controller-revision-hash, a Job per schedule), which must stay
 * within 63.
 */
export const SUFFIXED_NAME_MAX = 52

/**
 * How a product's resources and children are named in the domain's namespace, which every product
 * of the domain shares, and the limits those names must keep: `validate` checks them, so a product
 * never fails only once in the cluster.
 *
 * Two products must never compute the same name. Product names are DNS-1123 labels without `--`
 * (validate and the CRD refuse it), so:
 * - a product-scoped resource (a DataStorage, an OutputPort ...) is `<product>.<local>` in the
 *   cluster: a product name holds no dot, so the first dot says whose it is;
 * - a child made for one of them (a StatefulSet, a Service ...) is `<product>--<local>`: the first
 *   `--` says whose it is, since a product name cannot hold one;
 * - a child of the product as a whole is `<product>-<role>` with a fixed role (`runtime`,
 *   `workloads`): no `--` in it, so it never meets a part's child, and `<p>-runtime` equals
 *   `<q>-runtime` only when p is q.
 * The YAML of a project keeps its local names, and references between its resources stay local.
 */
export const PRODUCT_SEPARATOR = '--'

export function childName(product: string, name: string): string {
  return `${product}${PRODUCT_SEPARATOR}${name}`
}

/** The product's runtime StatefulSet, ServiceAccount and Service (DESIGN §7). */
export function runtimeName(product: string): string {
  return `${product}-runtime`
}

/** The ServiceAccount the product's storages and ports run as (no token, no rights). */
export function workloadAccountName(product: string): string {
  return `${product}-workloads`
}

/** A product-scoped resource's name in the cluster. */
export function clusterName(product: string, local: string): string {
  return `${product}.${local}`
}

/** The name a project gave a product-scoped resource, or undefined when the cluster name is not of that product. */
export function localName(product: string, name: string): string | undefined {
  const prefix = `${product}.`
  return name.startsWith(prefix) && name.length > prefix.length ? name.slice(prefix.length) : undefined
}

/** A cluster name as a user wrote it: the local part of `<product>.<local>`, else the name itself. */
export function displayName(name: string): string {
  const dot = name.indexOf('.')
  return dot > 0 ? name.slice(dot + 1) : name
}

/** Services (DNS-1035 labels), Deployments' pods and most names in a pod's labels. */
export const NAME_MAX = 63
/**
 * StatefulSets and CronJobs: the controller appends a suffix of up to 11 characters to make its
 * own objects' names and labels (controller-revision-hash, a Job per schedule), which must stay
 * within 63.
 */
export const SUFFIXED_NAME_MAX = 52

/** How results name an object to the user: its local name, and the cluster's when that differs. */
export function shownName(name: string): {name: string; clusterName?: string} {
  const shown = displayName(name)
  return shown === name ? {name} : {name: shown, clusterName: name}
}

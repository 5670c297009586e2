/**
 * Pod Security: every domain namespace enforces the `restricted` profile, and every pod dappmesh
 * makes meets it (non-root, no privilege escalation, no capabilities, the runtime's default
 * seccomp profile), so a product author who can create pods in the namespace cannot run a
 * privileged one either. Shared by `render`/`apply` (which write the Namespace) and the domain
 * reconciler (which writes it too, with the same labels and values).
 */
export const POD_SECURITY_LABELS: Record<string, string> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
}

/**
 * The uid a workload runs as when its image says nothing dappmesh can rely on: 65532, the
 * "nonroot" user of distroless images. Set explicitly, because `runAsNonRoot` alone refuses an
 * image whose USER is root or a name, which most images are.
 */
export const DEFAULT_UID = 65532

export interface PodSecurityContext {
  runAsNonRoot: true
  runAsUser: number
  runAsGroup: number
  fsGroup: number
  seccompProfile: {type: 'RuntimeDefault'}
}

export interface ContainerSecurityContext {
  allowPrivilegeEscalation: false
  capabilities: {drop: ['ALL']}
}

/** A pod's securityContext under `restricted`; fsGroup makes its volumes writable by that uid. */
export function podSecurityContext(uid = DEFAULT_UID): PodSecurityContext {
  return {runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: {type: 'RuntimeDefault'}}
}

export function containerSecurityContext(): ContainerSecurityContext {
  return {allowPrivilegeEscalation: false, capabilities: {drop: ['ALL']}}
}

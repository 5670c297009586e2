/**
 * The V8 options the operator runs with: the in-cluster Deployment's NODE_OPTIONS
 * (operator-install/manifests.ts) and the operator bench's (bench/operator.js). V8's young
 * generation is by default two 16 MiB semi-spaces that it fills before collecting; the operator's
 * garbage is short-lived JSON (watch events, request bodies), so most of those 32 MiB would be
 * RSS held for nothing. A 1 MiB semi-space costs more, smaller scavenges (the bench measures both
 * CPU and RSS). V8 reads it only at start-up, hence an environment variable, as for the runtime
 * (runtime/footprint.ts).
 */
export const OPERATOR_NODE_OPTIONS = '--max-semi-space-size=1'

/**
 * The operator's environment besides NODE_OPTIONS: glibc gives each thread that allocates (V8's
 * GC helpers, libuv's pool) a malloc arena of its own, and memory freed in one is not reused by
 * another; two arenas measured ~6 MiB less peak RSS for 40 products (bench/operator.js).
 */
export const OPERATOR_ENV: Record<string, string> = {NODE_OPTIONS: OPERATOR_NODE_OPTIONS, MALLOC_ARENA_MAX: '2'}

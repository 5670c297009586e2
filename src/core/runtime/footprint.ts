/**
 * The V8 options the runtime runs with: its pod's NODE_OPTIONS (reconcile/product/runtime.ts) and
 * the serve bench's runtime. A mesh runs one runtime per product, so its idle footprint counts.
 * V8's young generation is by default two 16 MiB semi-spaces that it fills before collecting:
 * ~18 MiB of RSS that an idle runtime never gives back (measured with a 1M-row product:
 * 53 → 35 MiB anonymous memory). A 1 MiB semi-space costs the serving path a few more scavenges,
 * which the serve bench measures against its bare handler. V8 reads it only at start-up
 * (v8.setFlagsFromString after start has no effect), hence an environment variable of the pod.
 */
export const RUNTIME_NODE_OPTIONS = '--max-semi-space-size=1'

import {setFlagsFromString} from 'node:v8'

/**
 * The V8 options the operator runs with: the in-cluster Deployment's NODE_OPTIONS
 * (operator-install/manifests.ts) and the operator bench's (bench/operator.js). V8's young
 * generation is by default two 16 MiB semi-spaces that it fills before collecting; the operator's
 * garbage is short-lived JSON (watch events, request bodies), so most of those 32 MiB would be
 * RSS held for nothing. A 1 MiB semi-space costs more, smaller scavenges (the bench measures both
 * CPU and RSS). V8 reads it only at start-up, hence an environment variable, as for the runtime
 * (runtime/footprint.ts). Measured with bench/operator.js (100 products, back to back on a shared
 * machine, 2026-11-30): 1, 2, 4 and 8 MiB took 150, 134, 135 and 149 ms CPU per product with peak
 * RSS 86.5, 93.6, 98.6 and 89.3 MiB: no CPU gain beyond the machine's noise for the larger
 * semi-spaces, and the least memory at 1 MiB.
 */
export const OPERATOR_NODE_OPTIONS = '--max-semi-space-size=1'

/**
 * The operator's environment besides NODE_OPTIONS: glibc gives each thread that allocates (V8's
 * GC helpers, libuv's pool) a malloc arena of its own, and memory freed in one is not reused by
 * another; two arenas measured ~6 MiB less peak RSS for 40 products (bench/operator.js).
 */
export const OPERATOR_ENV: Record<string, string> = {NODE_OPTIONS: OPERATOR_NODE_OPTIONS, MALLOC_ARENA_MAX: '2'}

/**
 * V8 flags that NODE_OPTIONS refuses (it takes only a few of V8's), which `operator run` sets
 * itself as it starts. --optimize-for-size makes V8 let its old generation grow less between full
 * collections: during a burst of products the heap held ~15 MiB of garbage before each one.
 * Measured with bench/operator.js (100 products, same machine and hour): peak RSS 96.7 MiB with the
 * flag on node's command line, 94.9 set here, 103.6 without; CPU per product no worse (198, 143
 * and 201 ms: the machine's load varied more than that).
 * --no-opt leaves TurboFan, V8's optimizing compiler, unused: its code in the node binary is never
 * paged in (file pages 42.9 -> 38.9 MiB at the peak), and neither its compilation zones nor the
 * optimized code and deoptimization data are allocated. The operator's CPU goes mostly to
 * builtins and C++ (JSON, TLS, HTTP parsing), which run as fast without it; its own JavaScript
 * still gets Sparkplug's baseline code. Measured with bench/operator.js, 100 products, two runs at
 * once on one loaded machine (load ~30 on 2 cores): peak RSS 83.1 -> 75.4 MiB, RSS at start 58.7
 * -> 55.1, CPU per product 157 -> 156 ms.
 * $DAPPMESH_OPERATOR_V8_FLAGS (space-separated; empty for none) replaces them, to measure without.
 */
export const OPERATOR_V8_FLAGS = ['--optimize-for-size', '--no-opt']

/** Sets the operator's V8 flags: call first thing, before the caches fill the heap. */
export function useOperatorV8Flags(env: NodeJS.ProcessEnv = process.env): string[] {
  const flags = env.DAPPMESH_OPERATOR_V8_FLAGS === undefined ? OPERATOR_V8_FLAGS : env.DAPPMESH_OPERATOR_V8_FLAGS.split(' ').filter(Boolean)
  for (const flag of flags) setFlagsFromString(flag)
  return flags
}

/**
 * How many connections the operator's requests (not its watches, which have one each beside these)
 * may hold open to the API server at once. Without a cap, up to 8 reconciles applying up to 8
 * children each open a TLS connection per request in flight, and keep them all idle afterwards.
 * Measured with bench/operator.js (100 products, caps in turn back to back, shared machine,
 * 2026-11-30): without a cap 18-19 request connections (largest samples), peak RSS 74.6/74.5/74.7
 * MiB (anon 35.8/35.6/35.8), 80/97/90 ms CPU per product, Ready in 128/104/104 s; cap 8: peak
 * 74.6/73.5/73.5 (anon 34.9/34.6/34.6), 93/80/89 ms, 126/106/103 s; cap 16 peak 75.1/74.6; cap 4
 * peak 74.0/73.5 (anon 33.9/34.8), no lower than 8. So about 1 MiB less for no CPU or wall time.
 * One pair at 300 products: without a cap 18 connections, peak 99.3 MiB, 96 ms, Ready in 312 s;
 * cap 8: peak 97.3, 84 ms, 325 s.
 * An idle TLS connection alone costs 15-40 KiB and its handshake ~2 ms of CPU
 * (bench/tls-connections.js): the rest is buffers of requests in flight at once.
 * $DAPPMESH_OPERATOR_API_CONNECTIONS (a positive integer, or `unlimited`) replaces it, to measure others.
 */
export const OPERATOR_API_CONNECTIONS = 8

export function operatorApiConnections(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.DAPPMESH_OPERATOR_API_CONNECTIONS
  if (value === 'unlimited') return Number.POSITIVE_INFINITY
  const n = Number(value)
  return Number.isSafeInteger(n) && n > 0 ? n : OPERATOR_API_CONNECTIONS
}

/**
 * Orders strings by their UTF-16 code units, for sorts the operator does on every reconcile.
 * `localeCompare` (ICU's collation) maps ~2.7 MiB of the node binary's ICU data into the process
 * at its first call, resident for the process's life, and costs more CPU per comparison. The names
 * it sorts are Kubernetes names (lower case, digits, '-', '.') and kinds (PascalCase, differing in
 * lower-case letters), which both orders put alike.
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

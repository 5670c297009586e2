/*
 * Reading a large project without positions on every core. The files are claimed one at a time
 * from a shared counter, by this thread and by helper threads alike, so no thread waits for
 * another: this one starts at once, and a helper joins when it has started (some 30 ms) and takes
 * whatever is left. A small project is over before a helper could help, so none is started;
 * DAPPMESH_VALIDATE_THREADS=N sets the number of threads (1: this one only).
 *
 * The result is exactly the sequential one, in the same order. A file that needs positions (or
 * any error in a helper) makes the whole read throw `PositionsNeeded`, as the sequential read
 * does: the caller then reads the project again, precisely, on one thread.
 */
import {existsSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Worker} from 'node:worker_threads'

import {parseYamlFileFast} from './fast-source.js'
import {type ParsedFile, PositionsNeeded, SourceDocument} from './source.js'

/** Below this many files one thread is faster than starting a second. */
export const PARALLEL_MIN_FILES = 600

/** Slots of the shared control array. */
const NEXT = 0
/** A helper's state: 0 not yet joined, 1 joined (its results will come), 2 too late (it must leave). */
const STATE = 1

export interface WorkerRequest {
  root: string
  files: string[]
  control: SharedArrayBuffer
  slot: number
}

/** What a helper sends back: the documents of each file it read, by index, or why it stopped. */
export type WorkerReply = {ok: true; files: Array<[index: number, documents: Array<[index: number, object: unknown]>]>} | {ok: false; reason: string}

// From a sibling folder of dist/core/project, since the validate bundle (scripts/bundle.js) holds this
// module in dist/core/validate.
const WORKER = new URL('../project/parse-worker.js', import.meta.url)

function helperCount(files: number): number {
  if (files < PARALLEL_MIN_FILES || process.env.DAPPMESH_VALIDATE_THREADS === '1') return 0
  // Running from the TypeScript sources (tests) there is no compiled worker: one thread then.
  if (!existsSync(WORKER)) return 0
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
  // Threads only on cores that are idle (like make -l): on a busy machine a second thread competes
  // with the other work and made the read slower than one thread did (measured on two busy cores).
  const idle = Math.round(cores - os.loadavg()[0])
  const wanted = Number(process.env.DAPPMESH_VALIDATE_THREADS) || idle
  return Math.max(0, Math.min(wanted - 1, 3, Math.floor(files / PARALLEL_MIN_FILES)))
}

/** Reads and parses `files` (relative to root) without positions, on several threads when it pays. */
export async function readFilesFast(root: string, files: string[], stats?: {helperFiles: number}): Promise<ParsedFile[]> {
  const helpers = helperCount(files.length)
  if (helpers === 0) return files.map((file) => parseYamlFileFast(file, readFileSync(path.join(root, file), 'utf8')))

  const control = new SharedArrayBuffer(4 * (STATE + helpers))
  const shared = new Int32Array(control)
  const workers = Array.from({length: helpers}, (_, i) => {
    const worker = new Worker(WORKER, {workerData: {root, files, control, slot: STATE + i} satisfies WorkerRequest})
    const reply = new Promise<WorkerReply>((resolve) => {
      worker.once('message', (m: WorkerReply) => resolve(m))
      worker.once('error', (error) => resolve({ok: false, reason: error.message}))
      worker.once('exit', (code) => resolve({ok: false, reason: `helper thread exited (${code}) without a reply`}))
    })
    return {worker, reply, slot: STATE + i}
  })

  const out = new Array<ParsedFile>(files.length)
  let failure: unknown
  try {
    for (let i = Atomics.add(shared, NEXT, 1); i < files.length; i = Atomics.add(shared, NEXT, 1)) {
      const file = files[i]
      out[i] = parseYamlFileFast(file, readFileSync(path.join(root, file), 'utf8'))
    }
  } catch (error) {
    failure = error
    // Nothing left to claim: the helpers stop at their next file.
    Atomics.store(shared, NEXT, files.length)
  }

  const replies = await Promise.all(
    workers.map(async ({worker, reply, slot}) => {
      // A helper that has not joined yet is told it is too late, and is not waited for.
      if (Atomics.compareExchange(shared, slot, 0, 2) === 0) {
        await worker.terminate()
        return {ok: true, files: []} satisfies WorkerReply
      }
      return reply
    }),
  )
  if (failure) throw failure
  for (const reply of replies) {
    if (!reply.ok) throw new PositionsNeeded(reply.reason)
    if (stats) stats.helperFiles += reply.files.length
    for (const [index, documents] of reply.files) {
      const file = files[index]
      out[index] = {file, documents: documents.map(([n, object]) => new SourceDocument(file, n, undefined, undefined, object)), findings: [], broken: []}
    }
  }
  return out
}

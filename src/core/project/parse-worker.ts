/*
 * A helper thread of parallel-read.ts: claims files from the shared counter, reads and parses
 * each without positions, and sends their documents back once the counter runs out.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {parentPort, workerData} from 'node:worker_threads'

import {parseYamlFileFast} from './fast-source.js'
import type {WorkerReply, WorkerRequest} from './parallel-read.js'

const {root, files, control, slot} = workerData as WorkerRequest
const shared = new Int32Array(control)
let reply: WorkerReply = {ok: true, files: []}
// Join, unless the main thread has already finished and said so (then leave without a word).
if (Atomics.compareExchange(shared, slot, 0, 1) === 0) {
  const done: Array<[number, Array<[number, unknown]>]> = []
  try {
    for (let i = Atomics.add(shared, 0, 1); i < files.length; i = Atomics.add(shared, 0, 1)) {
      const file = files[i]
      done.push([i, parseYamlFileFast(file, readFileSync(path.join(root, file), 'utf8')).documents.map((d) => [d.index, d.object])])
    }
    reply = {ok: true, files: done}
  } catch (error) {
    Atomics.store(shared, 0, files.length)
    reply = {ok: false, reason: (error as Error).message}
  }
  parentPort!.postMessage(reply)
}

import {once} from 'node:events'
import type {Writable} from 'node:stream'

/**
 * Writes and waits while the socket's buffer is full: a slow client slows the DuckDB reads down
 * instead of letting rows pile up in memory.
 */
export async function writeChunk(out: Writable, text: string | Buffer): Promise<void> {
  if (out.destroyed) return
  if (!out.write(text)) {
    await Promise.race([once(out, 'drain'), once(out, 'close')])
  }
}

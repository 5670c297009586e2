import {UsageError} from './errors.js'

const SCALE: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
}

/** Sizes such as `64MiB`, `10MB`, `512k`, `2GB` or plain bytes, as bytes: MB is 1000², MiB and a bare M 1024². */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/i.exec(text.trim())
  const scale = SCALE[(m?.[2] ?? 'b').toLowerCase()]
  if (!m || scale === undefined) throw new UsageError(`"${text}" is not a size`, ['write bytes or a number with a unit, e.g. 64MiB, 10MB, 512KiB'])
  return Math.floor(Number(m[1]) * scale)
}

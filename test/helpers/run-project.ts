import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {fixture} from './cli.js'

/** A throw-away copy of a run fixture (a run writes .dappmesh/data into it), removed by `remove()`. */
export class RunProject {
  readonly dir: string

  constructor(name = 'run-shop') {
    const base = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-run-'))
    this.dir = path.join(base, name)
    cpSync(fixture(name), this.dir, {recursive: true})
  }

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts)
  }

  write(file: string, text: string): string {
    const target = this.path(file)
    writeFileSync(target, text)
    return target
  }

  /** Replaces text in a project file (a transition's SQL, a source's uri). */
  edit(file: string, from: string, to: string): void {
    const text = readFileSync(this.path(file), 'utf8')
    if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`)
    writeFileSync(this.path(file), text.replace(from, to))
  }

  remove(): void {
    rmSync(path.dirname(this.dir), {recursive: true, force: true})
  }
}

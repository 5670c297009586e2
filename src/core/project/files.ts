import {readFileSync, readdirSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'

import type {Ignore} from 'ignore'

const YAML_FILE = /\.ya?ml$/i
const SKIP_DIRS = new Set(['.dappmesh', 'node_modules', '.git'])

/**
 * `render --output-dir` leaves this file in the directory it writes, and a directory holding it is
 * never read as part of a project: the rendered manifests are copies of the project's resources,
 * and reading them back would make every resource a duplicate of itself.
 */
export const RENDERED_MARKER = '.dappmesh-rendered'

/** Paths to leave out, in gitignore syntax, relative to the project root. */
export const IGNORE_FILE = '.dappmeshignore'

const require = createRequire(import.meta.url)

/** The project's .dappmeshignore rules; undefined when it has none (the common case costs one failed read). */
function ignoreRules(root: string): Ignore | undefined {
  let text: string
  try {
    text = readFileSync(path.join(root, IGNORE_FILE), 'utf8')
  } catch {
    return undefined
  }
  const ignore = require('ignore') as typeof import('ignore').default
  return ignore().add(text)
}

/**
 * Every `*.yaml`/`*.yml` file under `root`, as sorted paths relative to it with forward slashes;
 * without `.dappmesh/`, `node_modules/`, `.git/`, directories `render --output-dir` wrote, and what
 * `.dappmeshignore` names. A symbolic link counts as what it points to; one that points nowhere is
 * listed, so that reading it reports the problem instead of the file silently missing.
 */
export async function listYamlFiles(root: string): Promise<string[]> {
  const out: string[] = []
  const ignored = ignoreRules(path.resolve(root))
  // Synchronous on purpose: for a tree of many small directories it is several times faster than
  // awaiting one readdir per directory on the thread pool, and nothing else runs meanwhile.
  // Paths are joined by hand (`rel` is relative to root, with '/'): path.join and path.relative
  // per entry cost more than the readdir itself in a tree of thousands of files.
  function walk(dir: string, rel: string): void {
    const entries = readdirSync(dir, {withFileTypes: true})
    if (rel !== '' && entries.some((e) => e.name === RENDERED_MARKER && e.isFile())) return
    for (const entry of entries) {
      const name = entry.name
      let isDirectory = entry.isDirectory()
      let isFile = entry.isFile()
      if (entry.isSymbolicLink()) {
        const target = statOrUndefined(dir + path.sep + name)
        // Links to directories are not followed: a link to an ancestor would never end.
        isDirectory = false
        isFile = target === undefined ? YAML_FILE.test(name) : target.isFile()
      }
      if (isDirectory) {
        if (!SKIP_DIRS.has(name) && !ignored?.ignores(`${rel}${name}/`)) walk(dir + path.sep + name, rel + name + '/')
      } else if (isFile && YAML_FILE.test(name) && !ignored?.ignores(rel + name)) {
        // Not a FIFO, socket or device: reading one would block or never end.
        out.push(rel + name)
      }
    }
  }
  walk(path.resolve(root), '')
  return out.sort()
}

function statOrUndefined(file: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(file)
  } catch {
    return undefined
  }
}

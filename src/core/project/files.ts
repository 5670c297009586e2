import {readdirSync} from 'node:fs'
import path from 'node:path'

const YAML_FILE = /\.ya?ml$/i
const SKIP_DIRS = new Set(['.dappmesh', 'node_modules', '.git'])

/**
 * `render --output-dir` leaves this file in the directory it writes, and a directory holding it is
 * never read as part of a project: the rendered manifests are copies of the project's resources,
 * and reading them back would make every resource a duplicate of itself.
 */
export const RENDERED_MARKER = '.dappmesh-rendered'

/** Every `*.yaml`/`*.yml` file under `root`, as sorted paths relative to it with forward slashes. */
export async function listYamlFiles(root: string): Promise<string[]> {
  const out: string[] = []
  // Synchronous on purpose: for a tree of many small directories it is several times faster than
  // awaiting one readdir per directory on the thread pool, and nothing else runs meanwhile.
  // Paths are joined by hand (`rel` is relative to root, with '/'): path.join and path.relative
  // per entry cost more than the readdir itself in a tree of thousands of files.
  function walk(dir: string, rel: string): void {
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      const name = entry.name
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(name)) walk(dir + path.sep + name, rel + name + '/')
      } else if (entry.isFile() && YAML_FILE.test(name)) {
        out.push(rel + name)
      }
    }
  }
  walk(path.resolve(root), '')
  return out.sort()
}

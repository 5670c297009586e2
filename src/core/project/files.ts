import {readdirSync} from 'node:fs'
import path from 'node:path'

const SKIP_DIRS = new Set(['.dappmesh', 'node_modules', '.git'])

/** Every `*.yaml`/`*.yml` file under `root`, as sorted paths relative to it with forward slashes. */
export async function listYamlFiles(root: string): Promise<string[]> {
  const out: string[] = []
  // Synchronous on purpose: for a tree of many small directories it is several times faster than
  // awaiting one readdir per directory on the thread pool, and nothing else runs meanwhile.
  function walk(dir: string): void {
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(full)
      } else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) {
        out.push(path.relative(root, full).split(path.sep).join('/'))
      }
    }
  }
  walk(root)
  return out.sort()
}

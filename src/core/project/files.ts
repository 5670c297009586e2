import {readdir} from 'node:fs/promises'
import path from 'node:path'

const SKIP_DIRS = new Set(['.dappmesh', 'node_modules', '.git'])

/** Every `*.yaml`/`*.yml` file under `root`, as sorted paths relative to it with forward slashes. */
export async function listYamlFiles(root: string): Promise<string[]> {
  const out: string[] = []
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, {withFileTypes: true})
    await Promise.all(
      entries.map(async (entry) => {
        const full = path.join(dir, entry.name)
        if (entry.isDirectory()) {
          if (!SKIP_DIRS.has(entry.name)) await walk(full)
        } else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) {
          out.push(path.relative(root, full).split(path.sep).join('/'))
        }
      }),
    )
  }
  await walk(root)
  return out.sort()
}

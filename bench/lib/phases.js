// Run as a child: `node bench/lib/phases.js DIR`. Times the phases of validation inside one
// process (imports, loading and parsing, then the rules), cold and then warm, and prints JSON.
// Cold includes compiling the ajv validators and V8's first, unoptimised runs; warm shows what
// the work itself costs once that is paid.
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const dir = process.argv[2]
const now = () => performance.now()
const ms = (x) => Math.round(x * 10) / 10

let t = now()
const {loadProject} = await import(path.join(root, 'dist/core/project/load.js'))
const {validateProject} = await import(path.join(root, 'dist/core/validate/validate.js'))
const importMs = now() - t

const rounds = []
for (let i = 0; i < 3; i++) {
  t = now()
  const project = await loadProject(dir)
  const loadMs = now() - t
  t = now()
  const {result} = validateProject(project)
  const rulesMs = now() - t
  if (!result.valid) throw new Error(`${dir} is not valid: ${JSON.stringify(result.findings.slice(0, 3))}`)
  rounds.push({loadMs: ms(loadMs), rulesMs: ms(rulesMs), resources: result.resources})
}
process.stdout.write(JSON.stringify({importMs: ms(importMs), cold: rounds[0], warm: rounds[2]}) + '\n')

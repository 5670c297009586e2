// Run as a child: `node bench/lib/phases.js DIR`. Times the phases of validation inside one
// process (imports, loading and parsing, then the rules), cold and then warm, without source
// positions (the fast path) and then with them (the precise path), and prints JSON.
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

/** Three rounds of load then rules; `positions: false` is what `validate` does first (a valid project stays there). */
async function rounds(positions) {
  const out = []
  for (let i = 0; i < 3; i++) {
    t = now()
    const project = await loadProject(dir, {positions})
    const loadMs = now() - t
    t = now()
    const {result} = validateProject(project)
    const rulesMs = now() - t
    if (!result.valid) throw new Error(`${dir} is not valid: ${JSON.stringify(result.findings.slice(0, 3))}`)
    out.push({loadMs: ms(loadMs), rulesMs: ms(rulesMs), resources: result.resources})
  }
  return {cold: out[0], warm: out[2]}
}

const fast = await rounds(false)
// The path a project with findings takes: read again with source positions (yaml).
const precise = await rounds(true)
process.stdout.write(JSON.stringify({importMs: ms(importMs), ...fast, precise}) + '\n')

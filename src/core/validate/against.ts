import {execFile} from 'node:child_process'
import {mkdtemp, rm, stat} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'

import {UsageError} from '../errors.js'
import {type Project, loadProject} from '../project/load.js'

const run = promisify(execFile)

/**
 * The earlier project `validate --against` compares with: a directory, or a git ref of the
 * repository that holds `dir` (its copy of the same directory is extracted to a temp dir).
 */
export async function loadEarlierProject(dir: string, against: string): Promise<Project> {
  const asDir = path.resolve(against)
  if ((await stat(asDir).catch(() => undefined))?.isDirectory()) return loadProject(asDir)

  const cwd = path.resolve(dir)
  const top = await git(cwd, ['rev-parse', '--show-toplevel']).catch(() => undefined)
  if (!top) throw new UsageError(`--against ${against}: not a directory, and ${dir} is not inside a git repository`, ['Pass a directory holding the earlier project, or a git ref such as HEAD~1 or main.'])
  const commit = await git(cwd, ['rev-parse', '--verify', '--quiet', `${against}^{commit}`]).catch(() => undefined)
  if (!commit) throw new UsageError(`--against ${against}: not a directory and not a git ref`, ['Pass a directory holding the earlier project, or a git ref such as HEAD~1 or main.'])

  const sub = path.relative(top, cwd).split(path.sep).join('/')
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'dappmesh-against-'))
  try {
    const treeish = sub ? `${commit}:${sub}` : commit
    const archive = await new Promise<Buffer>((resolve, reject) => {
      execFile('git', ['archive', '--format=tar', treeish], {cwd: top, encoding: 'buffer', maxBuffer: 1 << 30}, (error, stdout) => (error ? reject(error) : resolve(stdout)))
    }).catch(() => undefined)
    if (!archive) throw new UsageError(`--against ${against}: ${sub || 'the project'} does not exist at ${against}`)
    await new Promise<void>((resolve, reject) => {
      const child = execFile('tar', ['-x', '-C', tmp], (error) => (error ? reject(error) : resolve()))
      child.stdin!.end(archive)
    })
    const project = await loadProject(tmp)
    return {...project, root: `${against}:${sub}`}
  } finally {
    await rm(tmp, {recursive: true, force: true})
  }
}

async function git(cwd: string, args: string[]): Promise<string> {
  const {stdout} = await run('git', args, {cwd})
  return stdout.trim()
}

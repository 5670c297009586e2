import {spawn, spawnSync} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const BIN = path.join(ROOT, 'bin/run.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the built CLI (dist/) as a user would, with deterministic output settings. */
export function cli(args: string[], options: {cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeout?: number} = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', COLUMNS: '120', ...options.env},
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: options.timeout ?? 60_000,
  })
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}

/**
 * The same, without blocking this process: for tests whose own servers (an identity provider, a
 * proxy) must keep answering the CLI while it runs.
 */
export function cliAsync(args: string[], options: {env?: NodeJS.ProcessEnv; timeout?: number} = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', COLUMNS: '120', ...options.env}, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeout ?? 60_000})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({code: code ?? -1, stdout, stderr}))
  })
}

/** A stack trace line such as `    at foo (file.js:1:2)`; user-facing output must never hold one. */
export const STACK_TRACE = /\n\s+at .+[(\s]\S+:\d+:\d+\)?/

export function fixture(...parts: string[]): string {
  return path.join(ROOT, 'test/fixtures', ...parts)
}

/** oclif wraps error messages and prefixes each line with ` ›   `; this undoes the wrapping for matching. */
export function flat(text: string): string {
  return text.replace(/ *\n › {3}/g, ' ').replace(/^ › {3}/gm, '').replace(/ +/g, ' ')
}

import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import {BIN, ROOT, STACK_TRACE, cli, fixture} from '../helpers/cli.js'
import {PtySession} from '../helpers/pty.js'

/** An ANSI colour (SGR) sequence such as `\x1b[31m`. */
// eslint-disable-next-line no-control-regex
const COLOUR = /\u001b\[[0-9;]*m/

describe('command-line conventions', () => {
  describe('usage errors', () => {
    it('with --json print one small JSON error on stdout and exit 2', () => {
      const r = cli(['validate', '--bogus', '--json'])
      assert.equal(r.code, 2, r.stderr)
      assert.ok(r.stdout.length < 1000, `stdout is ${r.stdout.length} bytes`)
      const body = JSON.parse(r.stdout)
      assert.deepEqual(Object.keys(body.error).sort(), ['exit', 'message', 'suggestions'])
      assert.equal(body.error.exit, 2)
      assert.match(body.error.message, /Nonexistent flag: --bogus/)
      assert.equal(r.stderr, '')
    })

    it('with --json report a bad option value the same way', () => {
      const r = cli(['lineage', fixture('validate', 'valid-minimal'), '-o', 'svg', '--json'])
      assert.equal(r.code, 2)
      assert.match(JSON.parse(r.stdout).error.message, /Expected --output=svg to be one of: mermaid, dot, json/)
    })

    it('without --json go to stderr, exit 2, and never show framework internals', () => {
      const r = cli(['validate', '--bogus'])
      assert.equal(r.code, 2)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, /Error: Nonexistent flag: --bogus/)
      assert.doesNotMatch(r.stderr, STACK_TRACE)
    })
  })

  describe('a mistyped command', () => {
    it('exits 2 and suggests the closest command', () => {
      const r = cli(['valdate'])
      assert.equal(r.code, 2)
      assert.match(r.stderr, /valdate is not a dappmesh command; did you mean "dappmesh validate"\?/)
    })

    it('suggests within a topic', () => {
      const r = cli(['cluster', 'creat'])
      assert.equal(r.code, 2)
      assert.match(r.stderr, /did you mean "dappmesh cluster create"\?/)
    })

    it('suggests nothing when nothing is close, and points at --help', () => {
      const r = cli(['xyzzyplugh'])
      assert.equal(r.code, 2)
      assert.doesNotMatch(r.stderr, /did you mean/)
      assert.match(r.stderr, /Run dappmesh --help for a list of commands/)
    })

    it('with --json is a JSON error on stdout', () => {
      const r = cli(['valdate', '--json'])
      assert.equal(r.code, 2)
      assert.deepEqual(JSON.parse(r.stdout).error.exit, 2)
    })
  })

  describe('-h', () => {
    it('is --help for the whole CLI', () => {
      const r = cli(['-h'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^USAGE/m)
      assert.match(r.stdout, /validate/)
    })

    it('is --help for a command', () => {
      const r = cli(['validate', '-h'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /\$ dappmesh validate \[DIR\]/)
    })
  })

  it('keeps an error message on one line when stderr is not a terminal, however long', () => {
    const long = path.join('/nonexistent', 'a'.repeat(90), 'b'.repeat(90))
    const r = cli(['validate', long], {env: {COLUMNS: '80'}})
    assert.equal(r.code, 2)
    assert.ok(r.stderr.split('\n').some((line) => line.includes(`${long}: no such directory`)), r.stderr)
  })

  it('keeps a warning on one line too', () => {
    const r = cli(['render', path.join(ROOT, 'examples/orders')], {env: {COLUMNS: '80'}})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^ › {3}Warning: no pushed build recorded for entity orders: using \S+ \(run dappmesh build --push to pin it by digest\)$/m)
  })

  describe('colour on a terminal', () => {
    let session: PtySession | undefined
    afterEach(() => session?.kill())

    it('is used by default (the control for the next test)', async () => {
      session = new PtySession(`${process.execPath} ${BIN} validate ${fixture('validate', 'naming')}`, {env: {NO_COLOR: undefined, FORCE_COLOR: undefined}})
      await session.wait()
      assert.match(session.output, COLOUR)
    })

    it('is never used with NO_COLOR=1', async () => {
      session = new PtySession(`${process.execPath} ${BIN} validate ${fixture('validate', 'naming')}`, {env: {NO_COLOR: '1', FORCE_COLOR: undefined}})
      assert.equal(await session.wait(), 1)
      assert.match(session.output, /not a DNS-1123 label/)
      assert.doesNotMatch(session.output, COLOUR)
    })
  })

  describe('Ctrl-C', () => {
    let server: net.Server | undefined
    let tmp: string | undefined
    const sockets: net.Socket[] = []
    afterEach(() => {
      for (const s of sockets) s.destroy()
      server?.close()
      if (tmp) rmSync(tmp, {recursive: true, force: true})
    })

    it('exits 130 while a command waits on the network', async () => {
      // A server that accepts and never answers: doctor waits on it until interrupted.
      server = net.createServer((s) => sockets.push(s))
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
      const port = (server.address() as net.AddressInfo).port
      tmp = mkdtempSync(path.join(os.tmpdir(), 'dappmesh-sigint-'))
      const kubeconfig = path.join(tmp, 'kubeconfig')
      writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`)
      const child = spawn(process.execPath, [BIN, 'doctor', '--kubeconfig', kubeconfig], {stdio: 'ignore'})
      // Interrupt once the request is in flight (the server has seen a connection).
      const deadline = Date.now() + 20_000
      while (sockets.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      assert.ok(sockets.length > 0, 'doctor never connected')
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      child.kill('SIGINT')
      assert.equal(await exit, 130)
    })
  })
})

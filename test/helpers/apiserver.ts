import {spawn} from 'node:child_process'
import {closeSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {kwokWorkdir} from '../../src/core/cluster/binaries.js'

/**
 * The control plane of a kwok cluster (binary runtime: local processes with pid files), for fault
 * tests: the kube-apiserver is stopped and started again with the very same command line while
 * etcd and the rest keep running. kube-controller-manager and kube-scheduler exit when they lose
 * their leader lease during the outage, as in any cluster, where the kubelet restarts them:
 * `reviveExited` does that. (`kwokctl stop/start cluster` restarts everything at once instead, and
 * kwok's controller, started before the API server answers, then no longer runs pods.)
 */
export interface ControlPlane {
  /** stops the API server (SIGKILL: a crash, its connections cut at once) */
  stopApiServer: () => Promise<void>
  /**
   * starts the API server with the command line it had, plus `extraArgs` (e.g. an
   * `--authentication-config` a test needs); the next stop and start without them restores the original
   */
  startApiServer: (extraArgs?: string[]) => void
  /** starts again every component that exited since stopApiServer; returns their names */
  reviveExited: () => string[]
}

interface Saved {
  pid: number
  argv: string[]
  cwd: string
  env: NodeJS.ProcessEnv
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export function controlPlaneOf(cluster: string): ControlPlane {
  const dir = path.join(kwokWorkdir(), 'clusters', cluster)
  const pidFile = (component: string) => path.join(dir, 'pids', `${component}.pid`)
  const saved = new Map<string, Saved>()

  const save = (component: string): Saved => {
    const pid = Number(readFileSync(pidFile(component), 'utf8').trim())
    // One we launched keeps the command line it was launched from, without the test's extra flags.
    const known = saved.get(component)
    if (known?.pid === pid) return known
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
    const env = Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    )
    const s = {pid, argv, cwd: readlinkSync(`/proc/${pid}/cwd`), env}
    saved.set(component, s)
    return s
  }

  const launch = (component: string, extraArgs: string[] = []) => {
    const s = saved.get(component)!
    const logFile = path.join(dir, 'logs', `${component}.log`)
    const log = openSync(logFile, 'a')
    const child = spawn(s.argv[0], [...s.argv.slice(1), ...extraArgs], {cwd: s.cwd, env: s.env, detached: true, stdio: ['ignore', log, log]})
    closeSync(log)
    child.unref()
    // down.sh stops the components by their pid files.
    writeFileSync(pidFile(component), `${child.pid}\n`)
    saved.set(component, {...s, pid: child.pid!})
  }

  return {
    async stopApiServer() {
      for (const file of readdirSync(path.join(dir, 'pids'))) save(file.replace(/\.pid$/, ''))
      const {pid} = saved.get('kube-apiserver')!
      process.kill(pid, 'SIGKILL')
      while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 50))
    },
    startApiServer(extraArgs = []) {
      if (!saved.has('kube-apiserver')) throw new Error('stopApiServer() first')
      launch('kube-apiserver', extraArgs)
    },
    reviveExited() {
      const revived: string[] = []
      for (const [component, s] of saved) {
        if (alive(s.pid) || !existsSync(pidFile(component))) continue
        launch(component)
        revived.push(component)
      }
      return revived
    },
  }
}

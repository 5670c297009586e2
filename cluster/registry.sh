#!/usr/bin/env bash
# The local image registry of `cluster create --provider local`: Debian's docker-registry on
# $(dappmesh_registry_addr) (127.0.0.1:5001), storing under $(dappmesh_registry_dir). The node's
# containerd uses it as the mirror of docker.io, so `postgres:16` in a manifest is pulled from
# here as library/postgres:16. Nothing is fetched from the internet.
#
# Usage: cluster/registry.sh start    starts it unless something already answers there (idempotent)
#        cluster/registry.sh stop     stops it if this script started it (pid file + command line)
#        cluster/registry.sh status   exit 0 when the registry answers
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"

addr="$(dappmesh_registry_addr)"
dir="$(dappmesh_registry_dir)"
config="$dir/config.yml"
pidfile="$dir/registry.pid"
log() { echo "dappmesh-registry: $*" >&2; }

answers() { curl -fsS -o /dev/null --max-time 2 "http://$addr/v2/" 2>/dev/null; }

ours() {
  local pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$config" && echo "$pid"
}

case "${1:-}" in
  start)
    if answers; then exit 0; fi
    if ! command -v docker-registry >/dev/null 2>&1; then
      log "docker-registry is not installed (apt-get install docker-registry)"
      exit 2
    fi
    mkdir -p "$dir"
    tmp="$(mktemp "$config.XXXXXX")"
    # No auth: it listens on the loopback address only. Deletion stays off: a shared cache.
    cat >"$tmp" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir
http:
  addr: $addr
YAML
    mv -f "$tmp" "$config"
    # Detached (own session), so it outlives the command that started it, like the cluster.
    setsid docker-registry serve "$config" </dev/null >>"$dir/registry.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do
      if answers; then exit 0; fi
      sleep 0.1
    done
    log "docker-registry did not answer on $addr within 10s; last lines of $dir/registry.log:"
    tail -n 20 "$dir/registry.log" >&2 || true
    exit 1
    ;;
  stop)
    if pid="$(ours)"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do [[ -e "/proc/$pid" ]] || break; sleep 0.1; done
      if [[ -e "/proc/$pid" ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$pidfile"
    ;;
  status)
    answers
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac

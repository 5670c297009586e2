#!/usr/bin/env bash
# Checks what a real node needs on this machine and exits 2 naming everything missing (and how to
# get it), so `cluster create --provider local` fails before starting anything.
set -uo pipefail

missing=()
if [[ "$(id -u)" -ne 0 ]]; then
  missing+=("root: a real node creates network interfaces, mounts and cgroups (run as root, or use --provider kwok)")
fi
for tool in runc ip iptables setsid curl docker-registry; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    case "$tool" in
      ip) pkg=iproute2 ;; setsid) pkg=util-linux ;; *) pkg="$tool" ;;
    esac
    missing+=("$tool (apt-get install $pkg)")
  fi
done
for plugin in bridge host-local loopback; do
  if [[ ! -x "/usr/lib/cni/$plugin" ]]; then
    missing+=("the CNI plugin /usr/lib/cni/$plugin (apt-get install containernetworking-plugins)")
  fi
done
if [[ ! -d /sys/fs/cgroup ]]; then
  missing+=("cgroups mounted at /sys/fs/cgroup")
fi

if (( ${#missing[@]} > 0 )); then
  echo "a real node cannot run here; missing:" >&2
  for item in "${missing[@]}"; do echo "  - $item" >&2; done
  exit 2
fi

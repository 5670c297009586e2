#!/usr/bin/env bash
# System packages the integration tests use, installed with apt-get only when missing, so the
# script is idempotent and cheap on a machine that has them. `.ci/run` calls it.
#   buildah, skopeo      image builds and registry inspection (dappmesh build; test/integration/build.test.ts)
#   docker-registry      a real OCI registry on 127.0.0.1 for push tests
#   podman, runc         podman's Docker-compatible socket for the docker builder path (crun fails
#                        under hybrid cgroups here; runc works)
#   docker client        the machine usually has one; else Debian's docker.io
#   busybox-static       a static shell for the base image the tests make (there is no image to pull)
#   bsdutils, util-linux script(1), setsid, setpriv (runs the test Postgres as a non-root user)
#   mmdebstrap           the real node's image fixtures: root filesystems from Debian's packages
#                        (test/images/build.sh)
#   containernetworking-plugins, iptables, iproute2, curl
#                        the real node of `cluster create --provider local` (bridge CNI, kube-proxy's
#                        rules, the pods' bridge and the image tests' network namespaces, the local
#                        registry's health check, which test/images/build.sh asks too)
#   postgresql           initdb/postgres/psql for the storage tests (test/helpers/postgres.ts); Debian
#                        keeps them in /usr/lib/postgresql/<major>/bin, off PATH
set -euo pipefail

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: no apt-get here; install buildah, skopeo, podman, runc, docker-registry, busybox-static and postgresql yourself" >&2
  exit 0
fi

missing=()
need_cmd() { # command package
  command -v "$1" >/dev/null 2>&1 || missing+=("$2")
}
need_pkg() { # package
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || missing+=("$1")
}

need_cmd buildah buildah
need_cmd skopeo skopeo
need_cmd podman podman
need_cmd runc runc
need_cmd docker-registry docker-registry
need_cmd docker docker.io
need_cmd mmdebstrap mmdebstrap
need_pkg containernetworking-plugins
need_cmd iptables iptables
need_cmd ip iproute2
need_cmd curl curl
need_pkg busybox-static
need_pkg bsdutils
need_pkg util-linux
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system-deps: nothing to install"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo -n); else
    echo "install-system-deps: not root and no sudo; missing: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

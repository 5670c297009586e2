#!/usr/bin/env bash
# Entrypoint of the Postgres test fixture (test/images/build.sh): Debian's PostgreSQL behind the
# contract of the official image, so manifests written for `postgres:16` run on it unchanged:
#   POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE)  required on first start, unless
#                                                  POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_USER (default postgres), POSTGRES_DB (default: the user), POSTGRES_INITDB_ARGS,
#   POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), PGDATA (default /var/lib/postgresql/data)
#   an empty PGDATA gets initdb, then /docker-entrypoint-initdb.d/*.sql|*.sh, once
#   listens on 5432 on every address; remote connections need the password
#   runs as whoever starts it (the operator: uid 999, no capabilities); started as root, it
#   takes PGDATA over and drops to postgres (999)
# One difference on purpose: SIGTERM, what Kubernetes sends, shuts down fast (SIGINT) instead of
# Postgres' "smart" shutdown, which would wait for every client (a runtime's pool) to disconnect
# until the pod is killed. The image's STOPSIGNAL is SIGINT too, as in the official image.
set -Eeuo pipefail

# VAR_FILE: the value of VAR read from a file (a mounted secret), as the official image allows.
file_env() {
  local var=$1 file="${1}_FILE" default=${2:-}
  if [[ -n "${!var:-}" && -n "${!file:-}" ]]; then
    echo "error: both $var and $file are set; set one" >&2
    exit 1
  fi
  local value=$default
  if [[ -n "${!var:-}" ]]; then value=${!var}; elif [[ -n "${!file:-}" ]]; then value="$(<"${!file}")"; fi
  export "$var"="$value"
  unset "$file"
}

if [[ "${1:-}" == -* ]]; then set -- postgres "$@"; fi

# Postgres itself, with SIGTERM turned into a fast shutdown; the exit status is the server's.
run_server() {
  "$@" &
  local pid=$! status
  trap 'kill -INT "$pid" 2>/dev/null || true' TERM INT
  trap 'kill -QUIT "$pid" 2>/dev/null || true' QUIT
  while :; do
    status=0
    wait "$pid" || status=$?
    kill -0 "$pid" 2>/dev/null || break
  done
  exit "$status"
}

if [[ "${1:-}" != postgres ]] || [[ " $* " == *" --help "* || " $* " == *" --version "* || " $* " == *" -V "* ]]; then
  exec "$@"
fi

file_env POSTGRES_PASSWORD
file_env POSTGRES_USER postgres
file_env POSTGRES_DB "$POSTGRES_USER"
file_env POSTGRES_INITDB_ARGS
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [[ "$(id -u)" == 0 ]]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${BASH_SOURCE[0]}" "$@"
fi

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  if [[ -z "${POSTGRES_PASSWORD:-}" && "$POSTGRES_HOST_AUTH_METHOD" != trust ]]; then
    cat >&2 <<'EOF'
error: the database is not initialised and POSTGRES_PASSWORD is not set.
  Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to the superuser's password, or
  POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without one (never in production).
EOF
    exit 1
  fi
  mkdir -p "$PGDATA"
  # A directory this user does not own (a volume's root) cannot be made 0700: initdb says so.
  chmod 0700 "$PGDATA" 2>/dev/null || true
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments
  if [[ -n "${POSTGRES_PASSWORD:-}" ]]; then
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
  else
    initdb --username="$POSTGRES_USER" $POSTGRES_INITDB_ARGS
  fi
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

  # A server on the socket only while the database is made and the init scripts run.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
  export PGUSER="$POSTGRES_USER" PGPASSWORD="${POSTGRES_PASSWORD:-}"
  if [[ "$POSTGRES_DB" != postgres ]]; then
    psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >/dev/null
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "running $f" >&2; . "$f" ;;
      *.sql) echo "running $f" >&2; psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) echo "running $f" >&2; gunzip -c "$f" | psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname "$POSTGRES_DB" ;;
      *) ;;
    esac
  done
  unset PGPASSWORD
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up." >&2
fi

run_server "$@"

#!/usr/bin/env bash
# The first-start half of the official postgres image's docker-entrypoint.sh (docker-library/postgres, 17),
# re-enacted step by step for test/conformance/postgres.spec.ts: initdb with POSTGRES_USER, POSTGRES_PASSWORD
# and POSTGRES_INITDB_ARGS, the `host all all all <password_encryption>` line, a socket-only temporary
# server started with the container's arguments, CREATE DATABASE POSTGRES_DB, the init files in sorted order
# (*.sql through psql; *.sh run when executable, otherwise sourced into this shell, as the image does), stop.
# Starting the real server (the image's `exec postgres "$@"`) is left to the caller.
#
# usage: entrypoint-init.sh <container args...>
# Environment: the container's (POSTGRES_*, PGDATA, secrets), and where the test keeps what the pod mounts:
#   KEEL_INITDB_DIR  the files of /docker-entrypoint-initdb.d
#   KEEL_SOCKET_DIR  /var/run/postgresql (also passed by the caller as -c unix_socket_directories)
set -Eeo pipefail
: "${KEEL_INITDB_DIR:?}" "${KEEL_SOCKET_DIR:?}" "${PGDATA:?}"

export POSTGRES_USER=${POSTGRES_USER:-postgres}
export POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
export POSTGRES_INITDB_ARGS=${POSTGRES_INITDB_ARGS:-}
if [ -z "$POSTGRES_PASSWORD" ]; then
  echo "Error: Database is uninitialized and superuser password is not specified." >&2
  exit 1
fi

mkdir -p "$PGDATA"
chmod 00700 "$PGDATA"
eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"

auth=$(postgres -C password_encryption "$@")
printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

export PGPASSWORD=$POSTGRES_PASSWORD
PGUSER=${PGUSER:-$POSTGRES_USER} pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@" -c listen_addresses='' -p 5432)" -w start

# The image's psql finds the socket in its compiled-in default, /var/run/postgresql; here it is told.
export PGHOST=$KEEL_SOCKET_DIR
docker_process_sql() {
  local query_runner=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [ -n "$POSTGRES_DB" ]; then query_runner+=(--dbname "$POSTGRES_DB"); fi
  "${query_runner[@]}" "$@"
}

exists=$(POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")
if [ -z "$exists" ]; then
  POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
fi

# shellcheck disable=SC2034 # the image's name for docker_process_sql, which init scripts may use
psql=(docker_process_sql)
for f in "$KEEL_INITDB_DIR"/*; do
  case "$f" in
    *.sh)
      if [ -x "$f" ]; then
        printf '%s: running %s\n' "$0" "$f"
        "$f"
      else
        printf '%s: sourcing %s\n' "$0" "$f"
        # shellcheck disable=SC1090
        . "$f"
      fi
      ;;
    *.sql) printf '%s: running %s\n' "$0" "$f"; docker_process_sql -f "$f" ;;
    *) printf '%s: ignoring %s\n' "$0" "$f" ;;
  esac
done

PGUSER=${PGUSER:-postgres} pg_ctl -D "$PGDATA" -m fast -w stop
unset PGPASSWORD
echo "PostgreSQL init process complete; ready for start up."

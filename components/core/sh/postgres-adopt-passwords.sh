#!/bin/bash
# Starts the official postgres image's server after giving its roles the passwords in the environment.
#
# The image applies POSTGRES_PASSWORD (and keel's init scripts their roles' passwords) only when it creates
# the database; on an existing data directory it ignores them. After keel:secretRotation has rotated the
# Secret, this script sets each role's password from it with `postgres --single` (no server running yet, no
# network, statements not logged), then runs the image's entrypoint with the container's arguments. On a
# new data directory it does nothing: the entrypoint's initdb uses the same variables.
#
# KEEL_ADOPT_ROLES: space-separated role=VARIABLE pairs, e.g. "synapse=POSTGRES_PASSWORD".
# Generated passwords are letters and digits; anything else is refused (it would need SQL quoting).
set -euo pipefail

die() {
  echo "postgres-adopt-passwords: $*" >&2
  exit 1
}

[[ -n ${PGDATA:-} ]] || die "PGDATA is not set"
sql=""
roles=()
for pair in ${KEEL_ADOPT_ROLES:-}; do
  role=${pair%%=*}
  var=${pair#*=}
  [[ $role =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "KEEL_ADOPT_ROLES: role \"$role\" is not a lower-case SQL identifier"
  [[ $var =~ ^[A-Z_][A-Z0-9_]*$ ]] || die "KEEL_ADOPT_ROLES: \"$var\" is not an environment variable name"
  password=${!var:-}
  [[ $password =~ ^[A-Za-z0-9]{16,128}$ ]] ||
    die "$var (the password of role $role) must be 16 to 128 letters and digits"
  sql+="ALTER ROLE \"$role\" PASSWORD '$password';"$'\n'
  roles+=("$role")
done
[[ ${#roles[@]} -gt 0 ]] || die "KEEL_ADOPT_ROLES names no role"

# The server's own -c settings apply (e.g. wal_level=logical, which logical replication slots require).
settings=()
for arg in "$@"; do [[ $arg == postgres ]] || settings+=("$arg"); done

if [[ -s $PGDATA/PG_VERSION ]]; then
  echo "postgres-adopt-passwords: setting the passwords of ${roles[*]} from the environment"
  out=$(printf '%s' "$sql" | postgres --single -D "$PGDATA" "${settings[@]}" \
    -c log_statement=none -c log_min_error_statement=panic postgres 2>&1) ||
    die "postgres --single failed: $(grep -v PASSWORD <<<"$out" | tail -n 5)"
  if grep -q 'ERROR:' <<<"$out"; then
    die "a password was not set: $(grep 'ERROR:' <<<"$out" | grep -v PASSWORD | head -n 5)"
  fi
fi
exec docker-entrypoint.sh "$@"

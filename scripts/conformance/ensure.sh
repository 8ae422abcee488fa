#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# scripts/conformance/ensure.sh <program> [version]: installs (once, into ${KEEL_CACHE:-~/.cache/keel}/conformance) the
# real program the conformance suite runs and prints, as its last line, the path to run it by. Progress goes to
# stderr. Programs: Go modules at the images' versions (stunnerd, livekit-server, promtool, alertmanager,
# amtool, blackbox_exporter), Debian packages (haproxy, coturn, pgbouncer, redis-server, rabbitmq-server,
# clamd, nginx), Synapse from PyPI (`synapse [version]`: the path is its venv's python; the version defaults
# to the image's pin) and the Python linter ruff from PyPI (at RUFF_VERSION). A Debian program's path is a
# wrapper in <root>/wrapped/, beside the package's other programs.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# debian_tool <name> <program> <package>...: unpacks the packages once per version of the first one and
# prints the path of the program's wrapper (the programs beside it are in the same folder).
debian_tool() {
  local name=$1 program=$2
  shift 2
  exec 8>"$CONF/.lock-apt"
  flock 8
  conf_apt_update
  local version root
  version=$(debian_version "$1")
  [[ -n $version ]] || die "Debian's index lists no $1"
  root=$CONF/$name-${version#*:}
  if [[ ! -x $root/wrapped/$program ]]; then
    say "unpacking Debian $* ($1 $version) into $root"
    rm -rf "$root.partial" && mkdir -p "$root.partial"
    (debian_unpack "$root.partial" "$@")
    rm -rf "$root" && mv "$root.partial" "$root"
    debian_wrap "$root"
  fi
  echo "$root/wrapped/$program"
}

# synapse_venv [version]: matrix-synapse[postgres,redis] (the image installs [all]; redis brings txredisapi and
# hiredis) at the image's version (components/core/src/images.ts), or at the given one (an upgrade test's
# older release), in a venv under $CONF/synapse-<version>-<constraints hash>, with every dependency pinned by
# synapse-constraints.txt (a change there installs a new venv); prints its python. psycopg2 is compiled
# against the pinned PostgreSQL client's libpq (scripts/postgres/ensure.sh), as the image compiles it against
# Debian's; where that client has no pg_config, psycopg2-binary (the same module, libpq bundled) stands in for
# the postgres extra (psycopg2 has no Linux wheel on PyPI: the extra would need pg_config to build).
synapse_venv() {
  local version=${1:-} dir pg pg_config="" libdir constraints=$HERE/synapse-constraints.txt hash
  if [[ -z $version ]]; then
    version=$(sed -nE 's/^ *synapse: \{ repository: "[^"]*", tag: "v([0-9.]+)" \},$/\1/p' \
      "$HERE/../../components/core/src/images.ts")
    [[ -n $version ]] || die "no synapse pin (tag vX.Y.Z) found in components/core/src/images.ts"
  fi
  [[ $version =~ ^[0-9]+(\.[0-9]+)*$ ]] || die "synapse version '$version' is not X.Y.Z"
  hash=$(sha256sum "$constraints" | cut -c1-8)
  dir=$CONF/synapse-$version-$hash
  # psycopg2 links to the PostgreSQL cache's libpq: a venv that no longer imports it is installed again.
  if [[ ! -f $dir/.installed ]] ||
    ! "$dir/bin/python" -c 'import synapse, psycopg2, txredisapi, hiredis' 2>/dev/null; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
      die "Synapse $version needs Python >= 3.10; python3 is $(python3 --version 2>&1)"
    pg=$(bash "$HERE/../postgres/ensure.sh") || die "scripts/postgres/ensure.sh failed (psycopg2 needs libpq)"
    eval "$pg"
    [[ -x $PG_CLIENT_BIN/pg_config ]] && pg_config=$PG_CLIENT_BIN/pg_config
    rm -rf "$dir" && mkdir -p "$CONF/logs"
    local log=$CONF/logs/synapse-$version-$hash.log
    say "installing matrix-synapse[postgres,redis]==$version from PyPI into $dir (constraints $hash; log: $log)"
    python3 -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet -c "$constraints" --upgrade pip >"$log" 2>&1 || die "pip upgrade failed: $(last_line "$log")"
    if [[ -n $pg_config ]]; then
      libdir=$("$pg_config" --libdir)
      say "compiling psycopg2 against libpq $("$pg_config" --version) ($pg_config)"
      PATH=$(dirname "$pg_config"):$PATH LDFLAGS="-Wl,-rpath,$libdir" nice "$dir/bin/python" -m pip install \
        -c "$constraints" --no-binary psycopg2 "matrix-synapse[postgres,redis]==$version" >>"$log" 2>&1 ||
        die "pip install matrix-synapse[postgres,redis]==$version failed: $(last_line "$log")"
    else
      say "no pg_config beside the PostgreSQL client: psycopg2-binary instead of compiling psycopg2"
      nice "$dir/bin/python" -m pip install -c "$constraints" "matrix-synapse[redis]==$version" psycopg2-binary \
        >>"$log" 2>&1 || die "pip install matrix-synapse[redis]==$version psycopg2-binary failed: $(last_line "$log")"
    fi
    "$dir/bin/python" -c 'import synapse, psycopg2, txredisapi, hiredis
print(synapse.__version__, psycopg2.__version__, txredisapi.__version__, hiredis.__version__)' >>"$log" 2>&1 ||
      die "Synapse's venv does not import synapse, psycopg2, txredisapi and hiredis: $(last_line "$log")"
    # Dependencies are pinned by synapse-constraints.txt; the freeze records what was installed.
    "$dir/bin/python" -m pip freeze >"$dir/requirements.freeze"
    touch "$dir/.installed"
  fi
  echo "$dir/bin/python"
}

# pypi_tool <name> <version>: a PyPI package at an exact version in its own venv under $CONF/<name>-<version>
# (the Python linter, ruff, checks the Matrix antivirus scripts); prints the path of its program <name>.
pypi_tool() {
  local name=$1 version=$2 dir=$CONF/$1-$2 log=$CONF/logs/$1-$2.log
  if [[ ! -f $dir/.installed ]]; then
    rm -rf "$dir" && mkdir -p "$CONF/logs"
    say "installing $name==$version from PyPI into $dir (log: $log)"
    python3 -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet "$name==$version" >"$log" 2>&1 ||
      die "pip install $name==$version failed: $(last_line "$log")"
    touch "$dir/.installed"
  fi
  echo "$dir/bin/$name"
}

# One lock per program (a warm lookup never waits for another program's build); the Debian programs share
# the private apt state and its download folder, so they also hold the apt lock.
mkdir -p "$CONF"
exec 9>"$CONF/.lock-${1:-none}"
flock 9
case ${1:-} in
  stunnerd) go_main stunnerd "$STUNNERD_MODULE" "$STUNNERD_VERSION" "$STUNNERD_SUM" cmd/stunnerd ;;
  livekit-server) go_main livekit-server "$LIVEKIT_MODULE" "$LIVEKIT_VERSION" "$LIVEKIT_SUM" cmd/server ;;
  promtool) go_main promtool "$PROMETHEUS_MODULE" "$PROMETHEUS_VERSION" "$PROMETHEUS_SUM" cmd/promtool ;;
  alertmanager) go_main alertmanager "$ALERTMANAGER_MODULE" "$ALERTMANAGER_VERSION" "$ALERTMANAGER_SUM" cmd/alertmanager ;;
  amtool) go_main amtool "$ALERTMANAGER_MODULE" "$ALERTMANAGER_VERSION" "$ALERTMANAGER_SUM" cmd/amtool ;;
  blackbox_exporter) go_main blackbox_exporter "$BLACKBOX_MODULE" "$BLACKBOX_VERSION" "$BLACKBOX_SUM" . ;;
  haproxy) debian_tool haproxy haproxy haproxy ;;
  coturn) debian_tool coturn turnserver coturn ;;
  pgbouncer) debian_tool pgbouncer pgbouncer pgbouncer ;;
  redis-server) debian_tool redis redis-server redis-server ;;
  rabbitmq-server) debian_tool rabbitmq rabbitmq-server rabbitmq-server ;;
  clamd) debian_tool clamav clamd clamav-daemon clamdscan ;;
  nginx) debian_tool nginx nginx nginx-light ;;
  synapse) synapse_venv "${2:-}" ;;
  ruff) pypi_tool ruff "$RUFF_VERSION" ;;
  *) die "usage: scripts/conformance/ensure.sh PROGRAM (one of the cases in this script)" ;;
esac

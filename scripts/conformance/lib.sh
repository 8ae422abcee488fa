# shellcheck shell=bash
# Shared by scripts/conformance/ensure.sh: installs the real programs the conformance suite runs, without
# root and without touching the system, into ${KEEL_CACHE:-~/.cache/keel}/conformance/<name>-<version>/.
# Every artifact is checked: Go modules against the h1: sum pinned in versions.env (their dependencies
# against the module's own go.sum), Debian packages against the signed index of the host's release.
KEEL_CACHE=${KEEL_CACHE:-$HOME/.cache/keel}
CONF=$KEEL_CACHE/conformance
START=${START:-$SECONDS}

say() { printf '[conformance %4ds] %s\n' "$((SECONDS - START))" "$*" >&2; }
die() { printf '[conformance %4ds] ERROR: %s\n' "$((SECONDS - START))" "$*" >&2; exit 1; }
last_line() { grep -v '^\s*$' "$1" 2>/dev/null | tail -n 1 || true; }

# go_main <name> <module> <version> <h1 sum> <package dir>: builds <package dir> of the module as the main
# module (its own go.mod and go.sum, as its release builds do) and prints the binary's path.
go_main() {
  local name=$1 module=$2 version=$3 sum=$4 pkg=$5
  local dir=$CONF/$name-$version bin=$CONF/$name-$version/$name log=$CONF/logs/$name-$version.log
  [[ -x $bin ]] && { echo "$bin"; return 0; }
  command -v go >/dev/null || die "go is needed to build $name ($module@$version)"
  mkdir -p "$dir" "$CONF/logs"
  # The checksum database may be unreachable here: the module's own sum is checked against the pin instead.
  local info
  say "downloading $module@$version from the Go module proxy"
  info=$(GOFLAGS=-mod=mod GOSUMDB=off go mod download -json "$module@$version" 2>"$log") ||
    die "go mod download $module@$version failed: $(last_line "$log") (log: $log)"
  local got src
  got=$(node -e 'const j = JSON.parse(process.argv[1]); process.stdout.write(j.Sum || "")' "$info")
  src=$(node -e 'const j = JSON.parse(process.argv[1]); process.stdout.write(j.Dir || "")' "$info")
  [[ $got == "$sum" ]] || die "$module@$version has sum $got, pinned $sum (versions.env)"
  local work=$dir/src
  rm -rf "$work" && cp -r "$src" "$work" && chmod -R u+w "$work"
  say "building $name $version ($module/$pkg; log: $log)"
  local tmp=$dir/.$name.partial
  (cd "$work" && CGO_ENABLED=${CGO_ENABLED:-0} GOFLAGS=-mod=mod GOSUMDB=off nice go build -trimpath -o "$tmp" "./$pkg") \
    >>"$log" 2>&1 || die "go build of $name failed: $(last_line "$log") (log: $log)"
  mv "$tmp" "$bin"
  rm -rf "$work"
  echo "$bin"
}

# A private apt state for the host's Debian release: its own sources, lists and cache under $CONF/apt.
conf_apt_opts() {
  local d=$CONF/apt
  printf '%s\n' -o "Dir::Etc::SourceList=$d/sources.list" -o "Dir::Etc::SourceParts=$d/empty.d" \
    -o "Dir::State::Lists=$d/lists" -o "Dir::State::status=$d/status" -o "Dir::Cache=$d/cache" \
    -o "Dir::Etc::Preferences=$d/preferences" -o "Dir::Etc::PreferencesParts=$d/empty.d" \
    -o "APT::Sandbox::User=$(id -un)" -o "Debug::NoLocking=true"
}
conf_apt_update() {
  local d=$CONF/apt release keyring=${DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
  local mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
  local security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
  # shellcheck disable=SC1091
  release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ -n $release ]] || die "no Debian release found in /etc/os-release"
  [[ -r $keyring ]] || die "$keyring is missing (apt-get install debian-archive-keyring)"
  [[ -f $d/updated ]] && (($(date +%s) - $(stat -c %Y "$d/updated") < 3600)) && return 0
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/empty.d"
  touch "$d/status"
  {
    echo "deb [signed-by=$keyring] $mirror $release main"
    echo "deb [signed-by=$keyring] $mirror $release-updates main"
    echo "deb [signed-by=$keyring] $security $release-security main"
  } >"$d/sources.list"
  say "reading Debian $release's signed package index (private apt state in $d)"
  local opts
  mapfile -t opts < <(conf_apt_opts)
  apt-get "${opts[@]}" -qq update >"$d/update.log" 2>&1 || die "apt-get update failed: $(last_line "$d/update.log")"
  touch "$d/updated"
}

# debian_version <package>: the candidate version the index lists.
debian_version() {
  local opts
  mapfile -t opts < <(conf_apt_opts)
  apt-cache "${opts[@]}" policy "$1" | sed -n 's/^ *Candidate: //p'
}

# debian_unpack <dir> <package>...: downloads the packages and whatever of their dependencies this machine
# lacks (apt reads the system's package database, changes nothing) and unpacks them into <dir>. When the pool does not serve
# the candidate the index lists yet, the other versions the index lists are tried, newest first.
debian_unpack() {
  local root=$1 pkg ver opts dl=$CONF/download
  shift
  mapfile -t opts < <(conf_apt_opts)
  opts+=(-o "Dir::State::status=/var/lib/dpkg/status" -o "Dir::Cache::archives=$dl")
  rm -rf "$dl" && mkdir -p "$dl/partial"
  if ! apt-get "${opts[@]}" -qq -y --no-install-recommends install --download-only "$@" >"$dl/log" 2>&1; then
    say "apt-get could not download $*: $(last_line "$dl/log"); trying the other listed versions"
    for pkg in "$@"; do
      for ver in $(apt-cache "${opts[@]}" madison "$pkg" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -ruV); do
        if apt-get "${opts[@]}" -qq -y --no-install-recommends install --download-only "$pkg=$ver" >"$dl/log" 2>&1; then
          continue 2
        fi
        say "$pkg $ver is listed but could not be downloaded: $(last_line "$dl/log")"
      done
      die "no listed version of Debian package $pkg could be downloaded"
    done
  fi
  local deb
  for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  rm -rf "$dl"
}

# debian_wrap <dir>: writes <dir>/wrapped/<program> for every program unpacked there, run with its libraries.
debian_wrap() {
  local root=$1 exe libs="$1/usr/lib/x86_64-linux-gnu:$1/lib/x86_64-linux-gnu"
  mkdir -p "$root/wrapped"
  for exe in "$root"/usr/bin/* "$root"/usr/sbin/*; do
    [[ -f $exe && -x $exe ]] || continue
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s "$@"\n' "$libs" "$exe" \
      >"$root/wrapped/${exe##*/}"
    chmod +x "$root/wrapped/${exe##*/}"
  done
}

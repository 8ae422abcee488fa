#!/usr/bin/env bash
# Prints the bin folder of the pinned Node.js (pins.sh), installing it first when missing:
#   $KEEL_CACHE/node/v<version>-<os>-<cpu>/{bin/node, bin/npm, bin/npx, lib/node_modules/npm, include/node}
# Both packages come from the npm registry through `npm pack` (so npm's registry, proxy and CA settings apply;
# any npm will do) and are checked against the pinned sha512 before anything is unpacked. A machine whose own
# `node` is exactly the pinned version uses it as it is. Progress goes to stderr.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=pins.sh
. "$HERE/pins.sh"
KEEL_CACHE=${KEEL_CACHE:-$HOME/.cache/keel}

say() { printf '[node] %s\n' "$*" >&2; }
die() { printf '[node] ERROR: %s\n' "$*" >&2; exit 1; }

if [[ $(node --version 2>/dev/null || true) == "v$KEEL_NODE_VERSION" ]] && command -v npm >/dev/null; then
  dirname "$(command -v node)"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  Linux-aarch64 | Linux-arm64) platform=linux-arm64 ;;
  *) die "no pinned Node.js $KEEL_NODE_VERSION for $(uname -s) $(uname -m): install Node.js $KEEL_NODE_VERSION and put it first on PATH" ;;
esac
integrity_var=KEEL_NODE_INTEGRITY_${platform//-/_}
dest=$KEEL_CACHE/node/v$KEEL_NODE_VERSION-$platform
if [[ -x $dest/bin/node && -x $dest/bin/npm ]]; then
  echo "$dest/bin"
  exit 0
fi

command -v npm >/dev/null || die "npm is needed once, to fetch Node.js $KEEL_NODE_VERSION from the npm registry"
mkdir -p "$KEEL_CACHE/node"
work=$(mktemp -d "$KEEL_CACHE/node/.install-XXXXXX")
trap 'rm -rf "$work"' EXIT

fetch() { # <package> <version> <sha512 integrity>: prints the checked tarball's path
  local tgz
  say "downloading $1@$2 from the npm registry"
  tgz=$(cd "$work" && npm pack --silent "$1@$2" 2>"$work/npm-pack.log" | tail -n 1) ||
    die "npm pack $1@$2 failed: $(tail -n 5 "$work/npm-pack.log")"
  local got
  got=sha512-$(openssl dgst -sha512 -binary "$work/$tgz" | base64 -w0)
  [[ $got == "$3" ]] || die "$1@$2: integrity $got, pinned $3 (scripts/node/pins.sh): refusing to install it"
  echo "$work/$tgz"
}

node_tgz=$(fetch "node-$platform" "$KEEL_NODE_VERSION" "${!integrity_var}")
npm_tgz=$(fetch npm "$KEEL_NPM_VERSION" "$KEEL_NPM_INTEGRITY")
say "unpacking Node.js $KEEL_NODE_VERSION ($platform) and npm $KEEL_NPM_VERSION into $dest"
mkdir -p "$work/node" "$work/npm"
tar -xzf "$node_tgz" -C "$work/node" --strip-components=1
tar -xzf "$npm_tgz" -C "$work/npm" --strip-components=1
mkdir -p "$work/node/lib/node_modules"
mv "$work/npm" "$work/node/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/node/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/node/bin/npx"
[[ $("$work/node/bin/node" --version) == "v$KEEL_NODE_VERSION" ]] || die "the unpacked node does not run here"
# Another run may have finished first: keep whichever landed.
mv -T "$work/node" "$dest" 2>/dev/null || [[ -x $dest/bin/node ]] || die "could not move Node.js into $dest"
echo "$dest/bin"

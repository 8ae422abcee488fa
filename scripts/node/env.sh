# shellcheck shell=bash
# Sourced: puts the pinned Node.js (ensure.sh) first on PATH, then defines keel_node_deps, which installs the
# root's and the policy pack's npm dependencies when missing or out of date with their lock files.
KEEL_ROOT=${KEEL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
if [[ ${KEEL_NODE_BIN:-} == "" || $(node --version 2>/dev/null || true) != "v$(. "$KEEL_ROOT/scripts/node/pins.sh" && echo "$KEEL_NODE_VERSION")" ]]; then
  KEEL_NODE_BIN=$(bash "$KEEL_ROOT/scripts/node/ensure.sh") || {
    echo "[node] could not install the pinned Node.js (scripts/node/ensure.sh)" >&2
    return 1 2>/dev/null || exit 1
  }
  export KEEL_NODE_BIN
  export PATH=$KEEL_NODE_BIN:$PATH
fi

# Installs <folder>'s dependencies (npm ci) unless node_modules/.keel-installed records the same lock file and
# Node.js version: a fresh clone, a changed lock file or a new Node.js all reinstall.
keel_node_deps_in() {
  local dir=$1 want have
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1) $(node --version)"
  have=$(cat "$dir/node_modules/.keel-installed" 2>/dev/null || true)
  [[ $want == "$have" ]] && return 0
  local name=${dir#"$KEEL_ROOT"}
  echo "[node] installing the npm dependencies of ${name#/}${name:+/}package-lock.json (npm ci, node $(node --version))" >&2
  (cd "$dir" && npm ci --no-audit --no-fund) >&2 || return 1
  echo "$want" >"$dir/node_modules/.keel-installed"
}

# Checked once per process tree and Node.js: nested npm scripts (run.sh in run.sh) skip it.
keel_node_deps() {
  [[ ${KEEL_NODE_DEPS_CHECKED:-} == "$KEEL_NODE_BIN" ]] && return 0
  keel_node_deps_in "$KEEL_ROOT" && keel_node_deps_in "$KEEL_ROOT/policy-pack" || return 1
  export KEEL_NODE_DEPS_CHECKED=$KEEL_NODE_BIN
}

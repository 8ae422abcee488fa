#!/usr/bin/env bash
# Lints the GitHub workflows with actionlint, building it with `go install` into the keel tool cache
# (${KEEL_CACHE:-$HOME/.cache/keel}/tools) the first time.
set -euo pipefail

ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.7}"
TOOLS="${KEEL_CACHE:-$HOME/.cache/keel}/tools"
BIN="$TOOLS/actionlint-$ACTIONLINT_VERSION"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if [[ ! -x "$BIN" ]]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "actionlint.sh: go is needed to build actionlint $ACTIONLINT_VERSION" >&2
    exit 2
  fi
  mkdir -p "$TOOLS"
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  echo "actionlint.sh: building actionlint $ACTIONLINT_VERSION into $TOOLS" >&2
  GOBIN="$build" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  mv "$build/actionlint" "$BIN"
fi

cd "$REPO_ROOT"
if [[ $# -gt 0 ]]; then
  exec "$BIN" "$@"
fi
exec "$BIN" .github/workflows/*.yml

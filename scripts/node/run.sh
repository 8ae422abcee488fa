#!/usr/bin/env bash
# `bash scripts/node/run.sh '<command line>' [args...]`: runs a command line (package.json scripts use it) with the
# pinned Node.js first on PATH and the npm dependencies installed and current; extra args go to its end, as npm
# passes them.
set -euo pipefail
# shellcheck source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
keel_node_deps
cd "$KEEL_ROOT"
exec bash -c "$1"' "$@"' run.sh "${@:2}"

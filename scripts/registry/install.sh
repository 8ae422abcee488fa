#!/usr/bin/env bash
# Builds crane (github.com/google/go-containerregistry) from the Go module proxy with this machine's Go,
# once per version, into $KEEL_CACHE/crane-<version>/, and prints the binary's path. crane copies images
# into and out of OCI layouts, pushes them, builds small test images and serves a registry
# (`crane registry serve`); no container engine. The binary is never committed.
set -euo pipefail

CRANE_VERSION=${KEEL_CRANE_VERSION:-v0.22.1}
cache=${KEEL_CACHE:-$HOME/.cache/keel}/crane-$CRANE_VERSION
bin=$cache/crane

if [[ ! -x $bin ]]; then
  command -v go >/dev/null || {
    echo "crane: needs Go to build $CRANE_VERSION (none on PATH)" >&2
    exit 1
  }
  mkdir -p "$cache"
  echo "crane: building $CRANE_VERSION into $cache" >&2
  CGO_ENABLED=0 GOBIN=$cache GOFLAGS=-mod=mod \
    go install "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION" >&2
fi
echo "$bin"

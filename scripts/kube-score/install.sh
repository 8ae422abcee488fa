#!/usr/bin/env bash
# Builds kube-score from the Go module proxy with this machine's Go, once per version, into
# $KEEL_CACHE/kube-score-<version>/, and prints the binary's path. The binary is never committed.
set -euo pipefail

KUBE_SCORE_VERSION=${KUBE_SCORE_VERSION:-v1.20.0}
cache=${KEEL_CACHE:-$HOME/.cache/keel}/kube-score-$KUBE_SCORE_VERSION
bin=$cache/kube-score

if [[ ! -x $bin ]]; then
  command -v go >/dev/null || {
    echo "kube-score: needs Go to build $KUBE_SCORE_VERSION (none on PATH)" >&2
    exit 1
  }
  mkdir -p "$cache"
  echo "kube-score: building $KUBE_SCORE_VERSION into $cache" >&2
  GOBIN=$cache GOFLAGS=-mod=mod go install "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" >&2
fi
echo "$bin"

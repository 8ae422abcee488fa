#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Stop the keel local cluster started by up.sh (processes from the pid files in $state/run).
# Usage: down.sh [--purge]     --purge also deletes the state dir (etcd data, certs, kubeconfig, logs)
set -euo pipefail
KEEL_LOG_TAG=down
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

purge=0
case ${1:-} in
  --purge) purge=1 ;;
  "") ;;
  *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac
S=$KEEL_STATE

if [[ -d $S/run ]]; then
  for c in pv-recycler kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_component "$c"; done
else
  say "no cluster state at $S"
fi
if [[ $purge == 1 ]]; then
  rm -rf "$S"
  say "purged $S"
else
  say "state kept in $S (up.sh restarts with it; down.sh --purge deletes it)"
fi

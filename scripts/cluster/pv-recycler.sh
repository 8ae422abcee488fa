#!/usr/bin/env bash
# pv-recycler: started in the background by up.sh (pid in $state/run/pv-recycler.pid).
# The local cluster has no volume provisioner: up.sh pre-creates a pool of hostPath PVs
# (label keel.dev/pv-pool=true, reclaimPolicy Retain). When a claim is deleted its PV becomes
# "Released" and could never bind again; this loop removes the stale claimRef so the PV is
# "Available" for the next claim (nothing is stored on them: kwok runs no containers).
# Usage: pv-recycler.sh <kubectl> <kubeconfig> [interval seconds, default 5]
set -uo pipefail
kubectl=$1 kubeconfig=$2 interval=${3:-5}
while true; do
  released=$("$kubectl" --kubeconfig "$kubeconfig" get pv -l keel.dev/pv-pool=true \
    -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{"\n"}{end}' 2>/dev/null)
  for pv in $released; do
    if "$kubectl" --kubeconfig "$kubeconfig" patch pv "$pv" --type=json \
         -p='[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null 2>&1; then
      echo "$(date -u +%FT%TZ) recycled $pv (Released -> Available)"
    fi
  done
  sleep "$interval"
done

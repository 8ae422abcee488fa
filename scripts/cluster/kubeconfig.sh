#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Print the path of the keel local cluster's admin kubeconfig (last line of output).
# Fails with a clear message if the cluster is not up (run scripts/cluster/up.sh).
# Usage: export KUBECONFIG=$(scripts/cluster/kubeconfig.sh | tail -n1)
set -euo pipefail
KEEL_LOG_TAG=kubeconfig
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

S=$KEEL_STATE
kcfg=$S/kubeconfig
[[ -f $kcfg && -f $S/cluster.env ]] || die "no local cluster state at $S; start it with scripts/cluster/up.sh"
# shellcheck source=/dev/null
. "$S/cluster.env"
if ! curl -sf -m 5 --cacert "$S/pki/ca.crt" "https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null | grep -q ok; then
  die "kube-apiserver at https://127.0.0.1:$APISERVER_PORT is not ready; start the cluster with scripts/cluster/up.sh (logs: $S/logs/)"
fi
echo "$kcfg"

#!/usr/bin/env bash
# Deploys @keel/monitoring alone (plus both exporters) to the local cluster with the real engine and the policy
# pack, checks what the API server decided (Pod Security, quota, volume binding, RBAC), previews with
# --expect-no-changes, and destroys everything. Build first (`npm run build`). Uses a throw-away file backend and
# the cluster lock shared with the e2e suite.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
exec 9>/tmp/keel-cluster.lock
flock 9
# shellcheck source=/dev/null
source "$root/scripts/env.sh" >/dev/null
state=$(mktemp -d /tmp/keel-monitoring-check.XXXXXX)
export PULUMI_BACKEND_URL=file://$state PULUMI_CONFIG_PASSPHRASE=monitoring-check
unset PULUMI_CONFIG_PASSPHRASE_FILE
ns=keel-mon-check
cd "$here"
cleanup() {
  pulumi destroy --yes --non-interactive --skip-preview >/dev/null 2>&1 || echo "destroy failed: kubectl delete ns $ns"
  pulumi stack rm --yes --force check >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
failures=0
expect() { # expect <description> <wanted> <got>
  if [[ $2 == "$3" ]]; then echo "ok   $1"; else echo "FAIL $1: wanted '$2', got '$3'"; failures=$((failures + 1)); fi
}
pulumi stack init check --non-interactive >/dev/null
pulumi up --yes --non-interactive --skip-preview \
  --policy-pack "$root/policy-pack" --policy-pack-config "$root/policy-pack/config/dev.json" | tail -n 25
expect "namespace enforces restricted" restricted \
  "$(kubectl get ns $ns -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}')"
expect "every pod admitted and running" 9 "$(kubectl -n $ns get pods --field-selector=status.phase=Running -o name | wc -l)"
expect "every claim bound on the fast class" "fast fast fast" \
  "$(kubectl -n $ns get pvc -o jsonpath='{range .items[?(@.status.phase=="Bound")]}{.spec.storageClassName} {end}' | xargs)"
expect "Prometheus gets a token" true \
  "$(kubectl -n $ns get pod -l app.kubernetes.io/name=prometheus -o jsonpath='{.items[0].spec.automountServiceAccountToken}')"
expect "Grafana gets none" false \
  "$(kubectl -n $ns get pod -l app.kubernetes.io/name=grafana -o jsonpath='{.items[0].spec.automountServiceAccountToken}')"
can() { kubectl auth can-i "$1" "$2" --as="system:serviceaccount:$ns:$3" -A 2>/dev/null || true; }
expect "prometheus lists pods" yes "$(can list pods prometheus)"
expect "prometheus reads kubelet metrics" yes "$(can get nodes/metrics prometheus)"
expect "prometheus reads no secrets" no "$(can get secrets prometheus)"
expect "alloy reads pod logs" yes "$(can get pods/log alloy)"
expect "alloy reads no secrets" no "$(can list secrets alloy)"
expect "kube-state-metrics lists cronjobs" yes "$(can list cronjobs.batch kube-state-metrics)"
expect "kube-state-metrics deletes nothing" no "$(can delete pods kube-state-metrics)"
expect "grafana has no API access" no "$(can list pods grafana)"
if pulumi preview --expect-no-changes --non-interactive >/dev/null; then
  expect "second preview shows no changes" 0 0
else
  expect "second preview shows no changes" 0 1
fi
echo "$failures failed"
[[ $failures == 0 ]]

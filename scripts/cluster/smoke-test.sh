#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Smoke test for the keel local cluster (run scripts/cluster/up.sh first). Creates a throw-away namespace
# enforcing the "restricted" Pod Security Standard and checks what the Pulumi program relies on:
#   /version reports the pinned Kubernetes version; a privileged pod is rejected by PodSecurity; a
#   compliant pod becomes Ready; a Deployment becomes available and its ClusterIP Service gets endpoints;
#   a StatefulSet with a volumeClaimTemplate (storageClassName: fast) becomes ready with a Bound PVC;
#   a LoadBalancer Service and an Ingress get status.loadBalancer.ingress; a Job completes.
# Usage: smoke-test.sh [--keep]     --keep leaves the namespace for inspection
# shellcheck disable=SC2015  # "check && pass || fail": pass always succeeds
set -euo pipefail
KEEL_LOG_TAG=smoke
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

kcfg=$("$KEEL_CLUSTER_SCRIPTS/kubeconfig.sh" | tail -n1)
KUBECTL=$(bin_path kubectl)
kc() { "$KUBECTL" --kubeconfig "$kcfg" "$@"; }
ns=keel-smoke-$$
fails=0
pass() { say "PASS: $*"; }
fail() { say "FAIL: $*"; fails=$((fails + 1)); }
cleanup() {
  if [[ ${1:-} != --keep ]]; then kc delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; fi
}
trap 'cleanup "${KEEP:-}"' EXIT
[[ ${1:-} == --keep ]] && KEEP=--keep

v=$(kc get --raw /version | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')
[[ $v == "$K8S_VERSION" ]] && pass "/version gitVersion=$v" || fail "/version gitVersion='$v', expected $K8S_VERSION"

kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $ns
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
EOF

# pods need the namespace's "default" ServiceAccount (created by kube-controller-manager)
for _ in $(seq 1 60); do kc get serviceaccount default -n "$ns" >/dev/null 2>&1 && break; sleep 0.5; done

if out=$(kc apply -n "$ns" -f - 2>&1 <<EOF
apiVersion: v1
kind: Pod
metadata: {name: privileged}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.10
    securityContext: {privileged: true}
EOF
); then
  fail "privileged pod was admitted in a restricted namespace"
else
  grep -q 'violates PodSecurity' <<<"$out" && pass "privileged pod rejected: ${out#*forbidden: }" || fail "privileged pod failed for another reason: $out"
fi

restricted_pod_spec='securityContext: {runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001, seccompProfile: {type: RuntimeDefault}}'
restricted_ctr='securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}'
kc apply -n "$ns" -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: compliant}
spec:
  $restricted_pod_spec
  containers:
  - name: c
    image: registry.k8s.io/pause:3.10
    $restricted_ctr
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      $restricted_pod_spec
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 8080}]
        resources: {requests: {cpu: 500m, memory: 1Gi}}
        $restricted_ctr
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - host: web.keel.local
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      $restricted_pod_spec
      containers:
      - name: db
        image: postgres:16
        resources: {requests: {cpu: "1", memory: 2Gi}}
        $restricted_ctr
        volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      storageClassName: fast
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 20Gi}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      $restricted_pod_spec
      containers:
      - name: once
        image: busybox:1.36
        $restricted_ctr
EOF

kc wait -n "$ns" pod/compliant --for=condition=Ready --timeout=60s >/dev/null &&
  pass "compliant pod admitted and Ready on $(kc get pod -n "$ns" compliant -o jsonpath='{.spec.nodeName}')" ||
  fail "compliant pod not Ready"
kc rollout status -n "$ns" deployment/web --timeout=90s >/dev/null &&
  pass "deployment web available ($(kc get deploy -n "$ns" web -o jsonpath='{.status.availableReplicas}')/3)" ||
  fail "deployment web not available"
# Pulumi's Service await watches v1 Endpoints; EndpointSlices are checked as well
eps="" slices=""
for _ in $(seq 1 30); do
  eps=$(kc get endpoints -n "$ns" web -o jsonpath='{.subsets[*].addresses[*].ip}' 2>/dev/null)
  slices=$(kc get endpointslices -n "$ns" -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].addresses[*]}')
  [[ -n $eps && -n $slices ]] && break; sleep 1
done
[[ -n $eps ]] && pass "service web has Endpoints: $eps" || fail "service web has no Endpoints"
[[ -n $slices ]] && pass "service web has EndpointSlice addresses: $slices" || fail "service web has no EndpointSlice addresses"
kc rollout status -n "$ns" statefulset/db --timeout=120s >/dev/null &&
  pass "statefulset db ready ($(kc get sts -n "$ns" db -o jsonpath='{.status.readyReplicas}')/2)" ||
  fail "statefulset db not ready"
pvcs=$(kc get pvc -n "$ns" -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase}:{.spec.volumeName}({.spec.storageClassName}) {end}')
[[ $pvcs == *data-db-0=Bound* && $pvcs == *data-db-1=Bound* ]] && pass "PVCs bound: $pvcs" || fail "PVCs not bound: $pvcs"
lb=""
for _ in $(seq 1 30); do
  lb=$(kc get svc -n "$ns" web-lb -o jsonpath='{.status.loadBalancer.ingress[*].ip}')
  [[ -n $lb ]] && break; sleep 1
done
[[ -n $lb ]] && pass "LoadBalancer service got ingress $lb" || fail "LoadBalancer service has no status.loadBalancer.ingress"
ing=""
for _ in $(seq 1 30); do
  ing=$(kc get ingress -n "$ns" web -o jsonpath='{.status.loadBalancer.ingress[*].ip}')
  [[ -n $ing ]] && break; sleep 1
done
[[ -n $ing ]] && pass "Ingress got ingress $ing" || fail "Ingress has no status.loadBalancer.ingress"
kc wait -n "$ns" job/once --for=condition=Complete --timeout=60s >/dev/null && pass "job completed" || fail "job did not complete"

if ((fails > 0)); then
  say "$fails check(s) failed; namespace $ns kept for inspection"
  KEEP=--keep
  exit 1
fi
say "all checks passed${KEEP:+ (namespace $ns kept)}"

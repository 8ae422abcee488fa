#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Start the keel local cluster: a real Kubernetes control plane on 127.0.0.1 (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) with kwok-simulated nodes. No containers run: kwok marks
# pods bound to its fake nodes Running/Ready, everything else is real Kubernetes behaviour
# (admission incl. PodSecurity, RBAC, scheduling, controllers, Endpoints, PV binding).
#
# Idempotent: builds missing binaries (build.sh), starts only components that are not running,
# returns at once when everything is already up and healthy. Restart with existing state works.
#
# Usage: up.sh
# Env (read on first start, then remembered in $state/cluster.env):
#   KEEL_CACHE           cache root (default $HOME/.cache/keel)
#   KEEL_CLUSTER_DIR     state dir (default $KEEL_CACHE/cluster/state)
#   KEEL_APISERVER_PORT  (16443)   KEEL_ETCD_PORT (12379, peer = +1)
#   KEEL_KCM_PORT (20257)  KEEL_SCHEDULER_PORT (20259)  KEEL_KWOK_PORT (20247)
#   KEEL_NODES (3)  KEEL_NODE_CPU (8)  KEEL_NODE_MEMORY (32Gi)  KEEL_PVS_PER_CLASS (60)
set -euo pipefail
KEEL_LOG_TAG=up
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

for tool in openssl curl setsid; do
  command -v "$tool" >/dev/null || die "'$tool' is required (Debian: apt-get install openssl curl util-linux)"
done

# ---- binaries --------------------------------------------------------------------------------------
need_build=0
for b in $KEEL_ALL_BINS; do [[ -x $(bin_path "$b") ]] || need_build=1; done
if [[ $need_build == 1 ]]; then
  say "some binaries are missing, running build.sh (a cold build takes 20-40 min on 2 cores)"
  "$KEEL_CLUSTER_SCRIPTS/build.sh"
fi

S=$KEEL_STATE
mkdir -p "$S"/{pki,logs,run,kubeconfigs,etcd,kwok}
chmod 700 "$S" "$S/pki"

# ---- settings (first start wins; kept in cluster.env) ---------------------------------------------
if [[ ! -f $S/cluster.env ]]; then
  cat >"$S/cluster.env" <<EOF
# written by up.sh at first start; delete the state dir (down.sh --purge) to change
APISERVER_PORT=${KEEL_APISERVER_PORT:-16443}
ETCD_PORT=${KEEL_ETCD_PORT:-12379}
KCM_PORT=${KEEL_KCM_PORT:-20257}
SCHEDULER_PORT=${KEEL_SCHEDULER_PORT:-20259}
KWOK_PORT=${KEEL_KWOK_PORT:-20247}
NODES=${KEEL_NODES:-3}
NODE_CPU=${KEEL_NODE_CPU:-8}
NODE_MEMORY=${KEEL_NODE_MEMORY:-32Gi}
PVS_PER_CLASS=${KEEL_PVS_PER_CLASS:-60}
SERVICE_CIDR=10.96.0.0/12
POD_CIDR=10.244.0.0/16
EOF
fi
# shellcheck source=/dev/null
. "$S/cluster.env"
ETCD_PEER_PORT=$((ETCD_PORT + 1))
API=https://127.0.0.1:$APISERVER_PORT
KUBECONFIG_PATH=$S/kubeconfig

KUBECTL=$(bin_path kubectl)
kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"; }
PKI=$S/pki

# ---- process helpers -------------------------------------------------------------------------------
COMPONENTS="etcd kube-apiserver kube-controller-manager kube-scheduler kwok pv-recycler"
# start <component> <cmd...>: start detached (own session), append output to logs/<component>.log
start() {
  local name=$1; shift
  if is_running "$name"; then say "$name already running (pid $(<"$(pidfile "$name")"))"; return 0; fi
  local logf=$S/logs/$name.log
  printf '\n===== %s starting %s\n' "$(date -u +%FT%TZ)" "$*" >>"$logf"
  setsid nohup "$@" >>"$logf" 2>&1 </dev/null &
  echo $! >"$(pidfile "$name")"
  say "started $name (pid $!, log $logf)"
  case $name in etcd|kube-apiserver) core_restarted=1 ;; esac
}
core_restarted=0
# restart_if_core_restarted <component>: clients that kept running while etcd or kube-apiserver was
# (re)started are restarted too: they keep no state, and their watches otherwise reconnect with
# back-off (new namespaces waited ~30s for their ServiceAccount, EndpointSlices lagged).
restart_if_core_restarted() {
  if [[ $core_restarted == 1 ]] && is_running "$1"; then
    say "restarting $1 (the control plane behind it was restarted)"
    stop_component "$1"
  fi
}
# wait_for <component|-> <description> <timeout s> <check cmd...>
# Polls the check. If the component's process exits meanwhile (e.g. it was still shutting down when
# up.sh found it "running", or it crashed), it is started once more via run_<component>.
wait_for() {
  local name=$1 what=$2 timeout=$3; shift 3
  local t0=$SECONDS restarted=0
  until "$@" >/dev/null 2>&1; do
    if [[ $name != - ]] && ! is_running "$name"; then
      if [[ $restarted == 0 ]]; then
        restarted=1
        say "$name is not running (exited or was shutting down); starting it again"
        "run_${name//-/_}"
        t0=$SECONDS
        continue
      fi
      echo "---- last lines of $S/logs/$name.log ----" >&2
      tail -n 30 "$S/logs/$name.log" >&2 || true
      die "$name exited while waiting for $what (log: $S/logs/$name.log)"
    fi
    if (( SECONDS - t0 > timeout )); then
      [[ $name == - ]] || { echo "---- last lines of $S/logs/$name.log ----" >&2; tail -n 30 "$S/logs/$name.log" >&2 || true; }
      die "timed out after ${timeout}s waiting for $what (logs: $S/logs/)"
    fi
    sleep 0.5
  done
}

api_ready() { curl -sf -m 3 --cacert "$PKI/ca.crt" "$API/readyz" | grep -q ok; }
etcd_healthy() { curl -sf -m 3 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
kcm_healthy() { curl -skf -m 3 "https://127.0.0.1:$KCM_PORT/healthz" | grep -q ok; }
scheduler_healthy() { curl -skf -m 3 "https://127.0.0.1:$SCHEDULER_PORT/healthz" | grep -q ok; }
kwok_healthy() { curl -sf -m 3 "http://127.0.0.1:$KWOK_PORT/healthz" | grep -q ok; }
ready_nodes() {
  kc get nodes -l keel.dev/fake-node=true \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null |
    grep -c '^True$' || true
}
nodes_ready() { [[ $(ready_nodes) -ge $NODES ]]; }

# ---- fast path -------------------------------------------------------------------------------------
all_running=1
for c in $COMPONENTS; do is_running "$c" || all_running=0; done
if [[ $all_running == 1 ]] && [[ -f $KUBECONFIG_PATH ]] && api_ready && etcd_healthy && kcm_healthy &&
   scheduler_healthy && kwok_healthy && nodes_ready; then
  say "cluster already running and healthy: $API (kubernetes $K8S_VERSION, $NODES kwok nodes Ready)"
  say "logs: $S/logs/   kubeconfig:"
  echo "$KUBECONFIG_PATH"
  exit 0
fi

# ---- PKI (first start) -----------------------------------------------------------------------------
ossl() { openssl "$@" >>"$S/logs/pki.log" 2>&1 || die "openssl $1 failed (log: $S/logs/pki.log)"; }
# cert <name> <subject> <extendedKeyUsage> [subjectAltName]
cert() {
  local name=$1 subj=$2 eku=$3 san=${4:-}
  [[ -f $PKI/$name.crt && -f $PKI/$name.key ]] && return 0
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    echo "authorityKeyIdentifier=keyid"
    [[ -z $san ]] || echo "subjectAltName=$san"
  } >"$PKI/$name.ext"
  ossl genrsa -out "$PKI/$name.key" 2048
  ossl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr"
  ossl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt"
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
  chmod 600 "$PKI/$name.key"
}
if [[ ! -f $PKI/ca.crt ]]; then
  say "generating CA, certificates and service-account signing keys in $PKI (openssl)"
  printf '[req]\ndistinguished_name=dn\n[dn]\n[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n' >"$PKI/ca.cnf"
  ossl genrsa -out "$PKI/ca.key" 2048
  ossl req -x509 -new -key "$PKI/ca.key" -subj "/CN=keel-local-ca" -days 3650 -sha256 \
    -config "$PKI/ca.cnf" -extensions v3_ca -out "$PKI/ca.crt"
  rm -f "$PKI/ca.cnf"; chmod 600 "$PKI/ca.key"
fi
cert apiserver "/CN=kube-apiserver" serverAuth \
  "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1"
cert admin "/O=system:masters/CN=keel-admin" clientAuth
cert kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
cert kube-scheduler "/CN=system:kube-scheduler" clientAuth
cert kwok "/O=system:masters/CN=kwok-controller" clientAuth
if [[ ! -f $PKI/sa.key ]]; then
  ossl genrsa -out "$PKI/sa.key" 2048
  ossl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
  chmod 600 "$PKI/sa.key"
fi

# kubeconfig <file> <cert name> <user>: client-certificate kubeconfig with embedded credentials
kubeconfig() {
  local f=$1 c=$2 user=$3 tmp
  tmp=$(mktemp "$f.XXXXXX")
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: keel
  cluster:
    server: $API
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$c.crt")
    client-key-data: $(base64 -w0 <"$PKI/$c.key")
contexts:
- name: keel
  context:
    cluster: keel
    user: $user
current-context: keel
EOF
  chmod 600 "$tmp"; mv -f "$tmp" "$f"
}
kubeconfig "$KUBECONFIG_PATH" admin keel-admin
kubeconfig "$S/kubeconfigs/kube-controller-manager.kubeconfig" kube-controller-manager system:kube-controller-manager
kubeconfig "$S/kubeconfigs/kube-scheduler.kubeconfig" kube-scheduler system:kube-scheduler
kubeconfig "$S/kubeconfigs/kwok.kubeconfig" kwok kwok-controller

# ---- etcd ------------------------------------------------------------------------------------------
run_etcd() {
  start etcd "$(bin_path etcd)" \
    --name keel --data-dir "$S/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "keel=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
    --unsafe-no-fsync --quota-backend-bytes 8589934592 --auto-compaction-retention 1h \
    --log-level warn
}
run_etcd
wait_for etcd "etcd health on 127.0.0.1:$ETCD_PORT" 60 etcd_healthy
say "etcd healthy"

# ---- kube-apiserver --------------------------------------------------------------------------------
# Admission: the default plugin set (NamespaceLifecycle, LimitRanger, ServiceAccount, PodSecurity,
# ResourceQuota, DefaultStorageClass, MutatingAdmissionWebhook, ValidatingAdmissionPolicy, ...).
# --endpoint-reconciler-type=none: the `kubernetes` Service would get the advertise address 127.0.0.1 as
# its endpoint, which Endpoints validation rejects (loopback) every 10s; nothing in-cluster needs it.
# --shutdown-watch-termination-grace-period: on SIGTERM, close open watches instead of waiting 60s for them.
run_kube_apiserver() {
  start kube-apiserver "$(bin_path kube-apiserver)" \
    --advertise-address=127.0.0.1 --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC --allow-privileged=true \
    --endpoint-reconciler-type=none \
    --shutdown-watch-termination-grace-period=3s \
    --profiling=false
}
restart_if_core_restarted kube-apiserver
run_kube_apiserver
wait_for kube-apiserver "kube-apiserver /readyz at $API" 180 api_ready
say "kube-apiserver ready at $API"

# ---- controller-manager, scheduler -----------------------------------------------------------------
KCM_KC=$S/kubeconfigs/kube-controller-manager.kubeconfig
run_kube_controller_manager() {
  start kube-controller-manager "$(bin_path kube-controller-manager)" \
    --kubeconfig="$KCM_KC" --authentication-kubeconfig="$KCM_KC" --authorization-kubeconfig="$KCM_KC" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$S/run/kcm-certs" \
    --leader-elect=false --use-service-account-credentials=true \
    --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --allocate-node-cidrs=false \
    --node-monitor-grace-period=90s \
    --profiling=false
}
restart_if_core_restarted kube-controller-manager
run_kube_controller_manager
SCH_KC=$S/kubeconfigs/kube-scheduler.kubeconfig
run_kube_scheduler() {
  start kube-scheduler "$(bin_path kube-scheduler)" \
    --kubeconfig="$SCH_KC" --authentication-kubeconfig="$SCH_KC" --authorization-kubeconfig="$SCH_KC" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --cert-dir="$S/run/scheduler-certs" \
    --leader-elect=false --profiling=false
}
restart_if_core_restarted kube-scheduler
run_kube_scheduler

# ---- kwok ------------------------------------------------------------------------------------------
cp "$KEEL_CLUSTER_SCRIPTS/kwok.yaml" "$S/kwok/kwok.yaml"
run_kwok() {
  start kwok "$(bin_path kwok)" \
    --kubeconfig="$S/kubeconfigs/kwok.kubeconfig" --config="$S/kwok/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr="$POD_CIDR" --node-lease-duration-seconds=0 \
    --server-address="127.0.0.1:$KWOK_PORT"
}
restart_if_core_restarted kwok
run_kwok

wait_for kube-controller-manager "kube-controller-manager /healthz" 90 kcm_healthy
wait_for kube-scheduler "kube-scheduler /healthz" 90 scheduler_healthy
wait_for kwok "kwok /healthz" 90 kwok_healthy
say "controller-manager, scheduler and kwok healthy"

# ---- cluster objects: fake nodes, storage classes, PV pool ------------------------------------------
nodes_yaml() {
  local i zones=(a b c) mem_alloc cpu_alloc
  cpu_alloc="$((NODE_CPU * 1000 - 100))m"          # like kubelet system-reserved
  mem_alloc=$NODE_MEMORY                            # keep it simple: full memory allocatable
  for ((i = 0; i < NODES; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: keel-worker-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    keel.dev/fake-node: "true"
    type: kwok
    kubernetes.io/hostname: keel-worker-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    beta.kubernetes.io/arch: amd64
    node-role.kubernetes.io/worker: ""
    node.kubernetes.io/instance-type: keel.${NODE_CPU}cpu-${NODE_MEMORY,,}
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: local-${zones[$((i % 3))]}
spec:
  podCIDR: 10.244.$i.0/24
  podCIDRs: [10.244.$i.0/24]
status:
  capacity: {cpu: "$NODE_CPU", memory: $NODE_MEMORY, pods: "110", ephemeral-storage: 200Gi}
  allocatable: {cpu: $cpu_alloc, memory: $mem_alloc, pods: "110", ephemeral-storage: 180Gi}
  addresses:
  - {type: InternalIP, address: 10.0.0.$((10 + i))}
  - {type: Hostname, address: keel-worker-$i}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    osImage: kwok simulated node
    kernelVersion: kwok-$KWOK_VERSION
    containerRuntimeVersion: kwok://$KWOK_VERSION
    kubeletVersion: $K8S_VERSION
    kubeProxyVersion: $K8S_VERSION
    bootID: ""
    machineID: ""
    systemUUID: ""
EOF
  done
}
storage_yaml() {
  local sc default
  for sc in keel-local fast bulk; do
    default=false; [[ $sc == keel-local ]] && default=true
    cat <<EOF
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $sc
  labels: {keel.dev/local-cluster: "true"}
  annotations:
    storageclass.kubernetes.io/is-default-class: "$default"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
allowVolumeExpansion: false
EOF
  done
}
# Pre-created PV pool: per class PVS_PER_CLASS hostPath PVs (no node affinity, so they fit any fake node)
# with a spread of sizes up to 200Gi. The scheduler's VolumeBinding plugin picks the smallest PV that
# fits a claim; pv-recycler.sh makes Released PVs Available again.
pv_yaml() {
  local sc i size sizes=(1 1 1 2 5 5 10 10 10 20 20 50 100 200)
  local n=${#sizes[@]}
  for sc in keel-local fast bulk; do
    for ((i = 0; i < PVS_PER_CLASS; i++)); do
      size=${sizes[$((i % n))]}
      cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $(printf 'keel-%s-%03d' "$sc" "$i")
  labels: {keel.dev/pv-pool: "true", keel.dev/storage-class: $sc}
spec:
  storageClassName: $sc
  capacity: {storage: ${size}Gi}
  accessModes: [ReadWriteOnce, ReadOnlyMany, ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  volumeMode: Filesystem
  hostPath: {path: /var/lib/keel-pv/$sc/$i, type: DirectoryOrCreate}
EOF
    done
  done
}
kc apply -f - <<<"$(nodes_yaml)" >>"$S/logs/bootstrap.log" 2>&1 || die "creating fake nodes failed (log: $S/logs/bootstrap.log)"
kc apply -f - <<<"$(storage_yaml)" >>"$S/logs/bootstrap.log" 2>&1 || die "creating storage classes failed (log: $S/logs/bootstrap.log)"
have_pvs=$(kc get pv -l keel.dev/pv-pool=true -o name 2>/dev/null | wc -l)
if (( have_pvs < 3 * PVS_PER_CLASS )); then
  say "creating PV pool: $PVS_PER_CLASS hostPath PVs for each of keel-local, fast, bulk"
  kc create -f - <<<"$(pv_yaml)" >>"$S/logs/bootstrap.log" 2>&1 || true   # existing ones: AlreadyExists
  have_pvs=$(kc get pv -l keel.dev/pv-pool=true -o name 2>/dev/null | wc -l)
  (( have_pvs >= 3 * PVS_PER_CLASS )) || die "PV pool incomplete ($have_pvs PVs, log: $S/logs/bootstrap.log)"
fi
run_pv_recycler() {
  start pv-recycler bash "$KEEL_CLUSTER_SCRIPTS/pv-recycler.sh" "$KUBECTL" "$KUBECONFIG_PATH"
}
run_pv_recycler

# Nodes are Ready as soon as kwok has seen them. If they are not within 45s (kwok lost its watch during
# a long apiserver outage, say), restart kwok once: it keeps no state.
t_nodes=$SECONDS
until nodes_ready; do
  if (( SECONDS - t_nodes > 45 )) && [[ ${kwok_restarted:-0} == 0 ]]; then
    kwok_restarted=1
    say "nodes not Ready after 45s ($(ready_nodes)/$NODES); restarting kwok"
    stop_component kwok
    run_kwok
  fi
  (( SECONDS - t_nodes < 120 )) || die "timed out after 120s waiting for $NODES Ready kwok nodes ($(ready_nodes) Ready; logs: $S/logs/kwok.log, $S/logs/kube-controller-manager.log)"
  sleep 1
done
wait_for - "default ServiceAccount in namespace default" 60 kc get serviceaccount default -n default

# End-to-end probe: after a restart the controllers' watches may still be backing off for a while.
# A throw-away namespace must get its ServiceAccount (controller-manager) and a pod in it must be
# scheduled (scheduler) and reported Ready (kwok) before the cluster counts as up.
probe_ns=keel-up-probe-$(date +%s)
kc create namespace "$probe_ns" >>"$S/logs/bootstrap.log" 2>&1 || die "cannot create namespace $probe_ns (log: $S/logs/bootstrap.log)"
wait_for - "ServiceAccount in new namespace $probe_ns (kube-controller-manager)" 120 kc get serviceaccount default -n "$probe_ns"
kc apply -n "$probe_ns" -f - >>"$S/logs/bootstrap.log" 2>&1 <<EOF || die "cannot create probe pod (log: $S/logs/bootstrap.log)"
apiVersion: v1
kind: Pod
metadata: {name: probe}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 65534, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: probe
    image: registry.k8s.io/pause:3.10
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
EOF
wait_for - "probe pod scheduled and Ready (kube-scheduler, kwok)" 120 \
  kc wait -n "$probe_ns" pod/probe --for=condition=Ready --timeout=2s
kc delete namespace "$probe_ns" --wait=false >>"$S/logs/bootstrap.log" 2>&1 || true
say "end-to-end probe passed (namespace -> ServiceAccount, pod -> scheduled -> Ready)"
say "cluster up: $API  kubernetes $K8S_VERSION, $NODES Ready kwok nodes, storage classes keel-local (default), fast, bulk"
say "state: $S   logs: $S/logs/   stop: scripts/cluster/down.sh   kubeconfig:"
echo "$KUBECONFIG_PATH"

# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR
# Shared helpers for scripts/cluster/*.sh. Sourced, not executed.
# Everything lives outside the repository:
#   ${KEEL_CACHE:-$HOME/.cache/keel}/cluster/<name>-<version>/<name>   binaries (build.sh)
#   ${KEEL_CACHE:-$HOME/.cache/keel}/cluster/build/                    throw-away wrapper modules, build logs
#   ${KEEL_CLUSTER_DIR:-$KEEL_CACHE/cluster/state}/                   cluster state (up.sh/down.sh)

KEEL_CLUSTER_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$KEEL_CLUSTER_SCRIPTS/versions.env"

KEEL_CACHE=${KEEL_CACHE:-$HOME/.cache/keel}
KEEL_BIN_ROOT=$KEEL_CACHE/cluster
# shellcheck disable=SC2034  # used by the scripts that source this file
KEEL_BUILD_ROOT=$KEEL_CACHE/cluster/build
KEEL_STATE=${KEEL_CLUSTER_DIR:-$KEEL_CACHE/cluster/state}

KEEL_K8S_BINS="kube-apiserver kube-controller-manager kube-scheduler kubectl"
# shellcheck disable=SC2034
KEEL_ALL_BINS="etcd $KEEL_K8S_BINS kwok"

# version_of <binary name> -> pinned version
version_of() {
  case "$1" in
    etcd) echo "$ETCD_VERSION" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl) echo "$K8S_VERSION" ;;
    kwok) echo "$KWOK_VERSION" ;;
    *) echo "unknown binary: $1" >&2; return 1 ;;
  esac
}

# bin_path <binary name> -> absolute path of the cached binary (may not exist yet)
bin_path() {
  local v
  v=$(version_of "$1") || return 1
  echo "$KEEL_BIN_ROOT/$1-$v/$1"
}

_keel_t0=${_keel_t0:-$(date +%s)}
# say <msg>: progress line with elapsed seconds since the script started
say() { printf '[%s +%ss] %s\n' "${KEEL_LOG_TAG:-cluster}" "$(( $(date +%s) - _keel_t0 ))" "$*"; }
die() { printf '[%s +%ss] ERROR: %s\n' "${KEEL_LOG_TAG:-cluster}" "$(( $(date +%s) - _keel_t0 ))" "$*" >&2; exit 1; }

# ---- processes started by up.sh (pid files in $KEEL_STATE/run) -------------------------------------
pidfile() { echo "$KEEL_STATE/run/$1.pid"; }
# is_running <component>: the pid file exists, the process is alive and still the expected program
# (guards against pid reuse: only the binary from the cache, or the pv-recycler script, qualifies)
is_running() {
  local pf pid
  pf=$(pidfile "$1"); [[ -f $pf ]] || return 1
  pid=$(<"$pf"); [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ $1 == pv-recycler ]]; then
    grep -qa pv-recycler.sh "/proc/$pid/cmdline" 2>/dev/null
  else
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(bin_path "$1")" ]]
  fi
}
# stop_component <component>: SIGTERM the recorded pid, wait up to 20s, then SIGKILL; remove the pid file.
stop_component() {
  local name=$1 pid i
  if ! is_running "$name"; then rm -f "$(pidfile "$name")"; return 0; fi
  pid=$(<"$(pidfile "$name")")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name (pid $pid) did not stop after 20s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pidfile "$name")"
  say "stopped $name (pid $pid)"
}

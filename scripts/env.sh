# shellcheck shell=bash
# Sourced by start.sh, the e2e suite and the bench: puts a Pulumi toolchain and a Kubernetes cluster in reach
# and points Pulumi at a local file backend.
#
# Uses the user's own `pulumi` and kube context when both work (KEEL_USE_OWN=0 forces the built ones);
# otherwise builds the pinned toolchain and starts the local cluster (both cached under $KEEL_CACHE).
# Sets: PATH (the pinned Node.js first, scripts/node/), PULUMI_HOME, PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE_FILE, KUBECONFIG,
#       PULUMI_SKIP_UPDATE_CHECK, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION.
KEEL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export KEEL_CACHE=${KEEL_CACHE:-$HOME/.cache/keel}
mkdir -p "$KEEL_CACHE"
# The pinned Node.js first on PATH (the language host runs the program with it); defines keel_node_deps.
# shellcheck source=node/env.sh
. "$KEEL_ROOT/scripts/node/env.sh" || return 1 2>/dev/null || exit 1

keel_say() { printf '[keel %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

keel_own_tools_work() {
  [[ ${KEEL_USE_OWN:-1} == 1 ]] || return 1
  command -v pulumi >/dev/null && command -v kubectl >/dev/null || return 1
  kubectl version --request-timeout=5s >/dev/null 2>&1
}

if keel_own_tools_work; then
  keel_say "using your pulumi ($(command -v pulumi)) and kube context ($(kubectl config current-context))"
else
  keel_say "building (or reusing) the pinned Pulumi toolchain"
  "$KEEL_ROOT/scripts/toolchain/build.sh" >&2 || {
    keel_say "toolchain build failed; see the log path above"
    return 1 2>/dev/null || exit 1
  }
  # shellcheck source=/dev/null
  . "$KEEL_CACHE/toolchain/env.sh"
  keel_say "starting (or reusing) the local Kubernetes cluster"
  "$KEEL_ROOT/scripts/cluster/up.sh" >&2 || {
    keel_say "local cluster failed to start; see scripts/cluster/README.md"
    return 1 2>/dev/null || exit 1
  }
  KUBECONFIG=$("$KEEL_ROOT/scripts/cluster/kubeconfig.sh" | tail -n 1)
  export KUBECONFIG
  PATH="$(. "$KEEL_ROOT/scripts/cluster/lib.sh" && dirname "$(bin_path kubectl)"):$PATH"
fi

export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# A local file backend unless the caller chose one.
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$KEEL_CACHE/state}
[[ $PULUMI_BACKEND_URL != file://* ]] || mkdir -p "${PULUMI_BACKEND_URL#file://}"
# The passphrase protecting secrets in the local backend: the caller's, or one generated once per machine.
if [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
  if [[ ! -s $KEEL_CACHE/passphrase ]]; then
    (umask 077 && head -c 32 /dev/urandom | base64 >"$KEEL_CACHE/passphrase")
    keel_say "generated a state passphrase in $KEEL_CACHE/passphrase (keep it: it decrypts the dev stack's secrets)"
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE=$KEEL_CACHE/passphrase
fi

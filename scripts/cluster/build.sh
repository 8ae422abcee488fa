#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build the local-cluster binaries from Go modules (no container engine, no release downloads):
#   etcd                       go.etcd.io/etcd/server/v3        ($ETCD_VERSION)
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#                              k8s.io/kubernetes                ($K8S_VERSION)
#   kwok                       sigs.k8s.io/kwok                 ($KWOK_VERSION)
# Versions are pinned in scripts/cluster/versions.env. Binaries are cached outside the repository:
#   ${KEEL_CACHE:-$HOME/.cache/keel}/cluster/<name>-<version>/<name>
# Already-built binaries are skipped, so a warm run takes well under a second.
#
# Usage: build.sh [name ...]       build the named binaries (default: all) if missing
#        build.sh --paths          print "<name> <path>" for every binary (no build)
# Env:   GO=/path/to/go            Go toolchain (default: go on PATH, then /usr/local/go/bin/go)
#        KEEL_CACHE                cache root (default $HOME/.cache/keel)
#        KEEL_BUILD_P              go build -p (default: number of CPUs)
set -euo pipefail
KEEL_LOG_TAG=build
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

if [[ ${1:-} == --paths ]]; then
  for b in $KEEL_ALL_BINS; do echo "$b $(bin_path "$b")"; done
  exit 0
fi

wanted=("$@")
[[ ${#wanted[@]} -gt 0 ]] || read -r -a wanted <<<"$KEEL_ALL_BINS"
for b in "${wanted[@]}"; do version_of "$b" >/dev/null || die "unknown binary '$b' (known: $KEEL_ALL_BINS)"; done

missing=()
for b in "${wanted[@]}"; do [[ -x $(bin_path "$b") ]] || missing+=("$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  if [[ $# -eq 0 ]]; then
    say "all binaries present in $KEEL_BIN_ROOT (etcd $ETCD_VERSION, kubernetes $K8S_VERSION, kwok $KWOK_VERSION)"
  else
    say "present in $KEEL_BIN_ROOT: $*"
  fi
  exit 0
fi

# ---- toolchain and proxy checks -------------------------------------------------------------------
if [[ -n ${GO:-} ]]; then
  [[ -x $GO ]] || die "GO=$GO is not an executable Go toolchain"
else
  GO=$(command -v go || true)
  [[ -n $GO ]] || GO=/usr/local/go/bin/go
  [[ -x $GO ]] || die "Go toolchain not found (looked for 'go' on PATH and /usr/local/go/bin/go). Install Go >= 1.26 (https://go.dev/dl/) or set GO=/path/to/go."
fi
export GOTOOLCHAIN=local CGO_ENABLED=0
gover=$("$GO" env GOVERSION) || die "'$GO env GOVERSION' failed"
say "using $GO ($gover), missing: ${missing[*]}"

mkdir -p "$KEEL_BUILD_ROOT/logs"
# one build at a time (up.sh may call us concurrently with a manual run)
exec 9>"$KEEL_BUILD_ROOT/.lock"
if ! flock -n 9; then
  say "another build.sh is running; waiting for its lock"
  flock 9
fi

modcache=$("$GO" env GOMODCACHE)
in_modcache() { [[ -f $modcache/cache/download/$1/@v/$2.zip ]]; }   # module path must be lower-case
need_proxy=0 probe_mod="" probe_ver=""
for b in "${missing[@]}"; do
  case $b in
    etcd) m=go.etcd.io/etcd/server/v3 v=$ETCD_VERSION ;;
    kwok) m=sigs.k8s.io/kwok v=$KWOK_VERSION ;;
    *) m=k8s.io/kubernetes v=$K8S_VERSION ;;
  esac
  if ! in_modcache "$m" "$v"; then need_proxy=1 probe_mod=$m probe_ver=$v; fi
done
goproxy=$("$GO" env GOPROXY)
first_proxy=${goproxy%%[,|]*}
if [[ $need_proxy == 1 ]]; then
  case $first_proxy in
    off) die "GOPROXY=off and the modules are not in the module cache ($modcache)" ;;
    direct|file://*) ;;
    *)
      if command -v curl >/dev/null; then
        code=$(curl -s -m 20 -o /dev/null -w '%{http_code}' "$first_proxy/$probe_mod/@v/$probe_ver.info" || true)
        [[ $code == 200 ]] || die "Go module proxy $first_proxy is not usable (HTTP '$code' for $probe_mod@$probe_ver; 000 = unreachable, 403/404 = version not available). The build needs it (or a warm module cache)."
      fi ;;
  esac
fi
# The checksum database is not reachable on every machine; fall back to module-proxy trust only.
if [[ -z ${GOSUMDB:-} ]] && [[ $("$GO" env GOSUMDB) != off ]] && command -v curl >/dev/null; then
  if ! curl -s -m 10 -o /dev/null "https://sum.golang.org/latest"; then
    export GOSUMDB=off
    say "note: sum.golang.org unreachable, building with GOSUMDB=off (checksums come from the proxy only)"
  fi
fi

buildp=${KEEL_BUILD_P:-$(nproc 2>/dev/null || echo 2)}

# run_logged <log> <cmd...>: run, keep output in the log, show the tail and the path on failure
run_logged() {
  local logf=$1; shift
  if ! "$@" >>"$logf" 2>&1; then
    echo "---- last lines of $logf ----" >&2
    tail -n 25 "$logf" >&2
    die "command failed: $* (full log: $logf)"
  fi
}

# go_build <wrapper dir> <name> <package> <extra args...>: build to a temp file, then mv into the cache
go_build() {
  local dir=$1 name=$2 pkg=$3; shift 3
  local dest ver tmp logf t
  ver=$(version_of "$name"); dest=$(bin_path "$name")
  logf=$KEEL_BUILD_ROOT/logs/$name-$ver.log
  : >"$logf"
  t=$(date +%s)
  say "building $name $ver ($pkg) ... log: $logf"
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp "$(dirname "$dest")/.$name.XXXXXX")
  # The committed go.sum pins every module's hash (the checksum database is not reachable everywhere);
  # without one, the graph is resolved here and its go.sum kept for committing.
  local lock=$KEEL_CLUSTER_SCRIPTS/locks/${dir##*/} mode=readonly
  if [[ -f $lock/go.sum ]]; then
    cp "$lock/go.sum" "$dir/go.sum"
  else
    mode=mod
    say "no committed lock $lock/go.sum: resolving modules (KEEL_CLUSTER_WRITE_LOCKS=1 writes the lock)"
  fi
  if ! (cd "$dir" && run_logged "$logf" "$GO" build -mod="$mode" -p "$buildp" -trimpath -o "$tmp" "$@" "$pkg"); then
    rm -f "$tmp"; exit 1
  fi
  if [[ $mode == mod && ${KEEL_CLUSTER_WRITE_LOCKS:-0} == 1 ]]; then
    mkdir -p "$lock" && cp "$dir/go.sum" "$lock/go.sum" && say "wrote $lock/go.sum (commit it)"
  fi
  chmod 0755 "$tmp"
  mv -f "$tmp" "$dest"
  say "built $name in $(( $(date +%s) - t ))s -> $dest"
}

is_missing() { local b; for b in "${missing[@]}"; do [[ $b == "$1" ]] && return 0; done; return 1; }

# ---- etcd ------------------------------------------------------------------------------------------
if is_missing etcd; then
  w=$KEEL_BUILD_ROOT/etcd-$ETCD_VERSION
  mkdir -p "$w"
  # etcd's own go.mod replaces its sibling modules with ../ paths; as a dependency those replaces are
  # ignored and the published go.etcd.io/etcd/*/v3 modules of the same version are used.
  cat >"$w/go.mod" <<EOF
// throw-away wrapper module generated by keel scripts/cluster/build.sh
module keel.local/cluster-build/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
  go_build "$w" etcd go.etcd.io/etcd/server/v3 -ldflags "-s -w"
fi

# ---- kubernetes ------------------------------------------------------------------------------------
k8s_missing=()
for b in $KEEL_K8S_BINS; do is_missing "$b" && k8s_missing+=("$b"); done
if [[ ${#k8s_missing[@]} -gt 0 ]]; then
  w=$KEEL_BUILD_ROOT/kubernetes-$K8S_VERSION
  mkdir -p "$w"
  logf=$KEEL_BUILD_ROOT/logs/kubernetes-$K8S_VERSION-download.log
  : >"$logf"
  say "downloading k8s.io/kubernetes@$K8S_VERSION module metadata ... log: $logf"
  (cd "$w" && run_logged "$logf" env GOFLAGS= "$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION")
  kmod=$modcache/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod
  [[ -f $kmod ]] || die "k8s.io/kubernetes go.mod not found at $kmod after download (log: $logf)"
  # kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, ...) as v0.0.0 and replaces
  # them with ./staging/src/...; the published counterpart of v1.Y.Z is v0.Y.Z.
  staging_ver=v0.${K8S_VERSION#v1.}
  staging=$(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$kmod")
  [[ -n $staging ]] || die "no ./staging replaces found in $kmod"
  gol=$(awk '$1 == "go" {print $2; exit}' "$kmod")
  godebug=$(awk '$1 == "godebug" {print; exit}' "$kmod")
  {
    echo "// throw-away wrapper module generated by keel scripts/cluster/build.sh"
    echo "module keel.local/cluster-build/kubernetes"
    echo
    echo "go ${gol:-1.26.0}"
    [[ -z $godebug ]] || { echo; echo "$godebug"; }
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    for m in $staging; do echo "	$m => $m $staging_ver"; done
    echo ")"
  } >"$w/go.mod.new"
  # keep go.sum (and the resolved go.mod) from an earlier run if the replace list is unchanged
  if ! cmp -s "$w/go.mod.new" "$w/go.mod.gen" 2>/dev/null; then
    cp "$w/go.mod.new" "$w/go.mod"; mv "$w/go.mod.new" "$w/go.mod.gen"; rm -f "$w/go.sum"
  else
    rm -f "$w/go.mod.new"
  fi
  say "wrapper module $w: k8s.io/kubernetes $K8S_VERSION + $(wc -w <<<"$staging") staging modules at $staging_ver"

  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  build_date=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%dT%H:%M:%SZ)
  info=$modcache/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.info
  if [[ -f $info ]]; then  # the release time as build date keeps builds reproducible
    t=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$info"); [[ -z $t ]] || build_date=$t
  fi
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$build_date"
  done
  for b in "${k8s_missing[@]}"; do
    go_build "$w" "$b" "k8s.io/kubernetes/cmd/$b" -tags selinux,notest -ldflags "$ldflags"
  done
fi

# ---- kwok ------------------------------------------------------------------------------------------
if is_missing kwok; then
  w=$KEEL_BUILD_ROOT/kwok-$KWOK_VERSION
  mkdir -p "$w"
  cat >"$w/go.mod" <<EOF
// throw-away wrapper module generated by keel scripts/cluster/build.sh
module keel.local/cluster-build/kwok

go 1.26.0

require sigs.k8s.io/kwok $KWOK_VERSION
EOF
  go_build "$w" kwok sigs.k8s.io/kwok/cmd/kwok -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
fi

say "done: ${missing[*]} built into $KEEL_BIN_ROOT"

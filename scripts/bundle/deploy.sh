#!/usr/bin/env bash
# keel air-gapped deploy (the `deploy.sh` of a bundle made by `npm run bundle`). Runs on a machine with no
# network and without the keel repository or npm: everything it runs is in this folder.
#
#   1. checks the signature of SHA256SUMS (--public-key, with the site's openssl), then the bundle against
#      SHA256SUMS (nothing changed, nothing added, the images' blobs included);
#   2. pushes the images the bundle carries into the private registry with the bundle's crane (verifying
#      digests, skipping those already there), or checks images.txt against --registry-catalog;
#   3. selects the stack in the site's file backend (creating it, or importing the state the bundle carries);
#   4. previews with the policy pack, then runs `pulumi up` with it;
#   5. writes the updated state export and the CA certificate next to the bundle: carry the state back to
#      the connected machine, where `npm run bundle -- --stack <name> --state <file>` makes the next bundle.
#
# See ./deploy.sh --help and docs/air-gapped.md in the keel repository.
set -euo pipefail

BUNDLE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
START=$SECONDS
STEPS=7
STEP=0
say() { printf '[deploy %4ds] %s\n' "$((SECONDS - START))" "$*" >&2; }
step() { STEP=$((STEP + 1)); say "($STEP/$STEPS) $*"; }
die() { say "ERROR: $*"; exit 1; }

usage() {
  cat <<'EOF'
usage: ./deploy.sh [options]

  --kubeconfig <file>        the site cluster's kubeconfig (default: $KUBECONFIG)
  --public-key <file>        the bundle builder's ed25519 public key (PEM): SHA256SUMS.sig must verify
                             against it (default: $KEEL_BUNDLE_PUBLIC_KEY; needs openssl on PATH)
  --allow-unsigned           deploy without checking a signature (only checksums)
  --registry-insecure        push the bundle's images over plain HTTP (loopback registries always are)
  --registry-catalog <file>  image references the private registry holds, one per line; every image of
                             images.txt must be in it (without it, presence is not checked: a warning)
  --allow-missing-images     only warn about images missing from the catalog
  --site-dir <dir>           the site's persistent folder: file backend, plugin cache, logs
                             (default: $KEEL_SITE_DIR, else keel-site next to the bundle folder)
  --state-out <file>         where to write the updated state export to carry back
                             (default: keel-<stack>-state-<UTC time>.json next to the bundle folder)
  --passphrase-file <file>   the stack's passphrase (default: $PULUMI_CONFIG_PASSPHRASE(_FILE), else asked)
  --import-state             replace the site backend's state with the bundle's (only after restoring a
                             lost site backend; normally the site's own state is newer)
  --preview-only             stop after the preview
  --destroy                  destroy the stack's resources instead of updating them (asks unless --yes)
  --yes                      do not ask
EOF
}

need() { [[ $# -ge 2 && -n $2 && $2 != --* ]] || die "$1 needs a value (see --help)"; }
KUBECONFIG_FILE=${KUBECONFIG:-}
CATALOG=""
PUBLIC_KEY=${KEEL_BUNDLE_PUBLIC_KEY:-}
ALLOW_UNSIGNED=0
INSECURE=()
ALLOW_MISSING=0
SITE_DIR=${KEEL_SITE_DIR:-}
STATE_OUT=""
IMPORT_STATE=0
PREVIEW_ONLY=0
DESTROY=0
YES=0
while (($#)); do
  case $1 in
    --kubeconfig) need "$@"; KUBECONFIG_FILE=$2; shift 2 ;;
    --registry-catalog) need "$@"; CATALOG=$2; shift 2 ;;
    --public-key) need "$@"; PUBLIC_KEY=$2; shift 2 ;;
    --allow-unsigned) ALLOW_UNSIGNED=1; shift ;;
    --registry-insecure) INSECURE=(--insecure); shift ;;
    --allow-missing-images) ALLOW_MISSING=1; shift ;;
    --site-dir) need "$@"; SITE_DIR=$2; shift 2 ;;
    --state-out) need "$@"; STATE_OUT=$2; shift 2 ;;
    --passphrase-file) need "$@"; export PULUMI_CONFIG_PASSPHRASE_FILE=$2; shift 2 ;;
    --import-state) IMPORT_STATE=1; shift ;;
    --preview-only) PREVIEW_ONLY=1; shift ;;
    --destroy) DESTROY=1; shift ;;
    --yes) YES=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
((DESTROY == 0)) || STEPS=6

# ------------------------------------------------------------------------------------------------------------
step "verifying the bundle's signature and SHA256SUMS"
# The signature is checked with the site's own openssl: nothing from the bundle runs before it verifies.
if [[ -n $PUBLIC_KEY ]]; then
  [[ -f $PUBLIC_KEY ]] || die "public key $PUBLIC_KEY not found"
  [[ -f $BUNDLE/SHA256SUMS.sig ]] || die "the bundle is not signed (no SHA256SUMS.sig): do not deploy it"
  command -v openssl >/dev/null || die "openssl is needed to check the bundle's signature (Debian package openssl)"
  command -v sha256sum >/dev/null || die "sha256sum (coreutils) is needed to check the bundle's own tools"
  openssl pkeyutl -verify -pubin -inkey "$PUBLIC_KEY" -rawin -in "$BUNDLE/SHA256SUMS" \
    -sigfile "$BUNDLE/SHA256SUMS.sig" >/dev/null 2>&1 ||
    die "the bundle's signature does not verify against $PUBLIC_KEY: do not deploy it (nothing was changed)"
  say "  SHA256SUMS is signed by the holder of $PUBLIC_KEY"
elif ((ALLOW_UNSIGNED)); then
  say "  WARNING: the bundle's origin is not checked (--allow-unsigned): only its checksums"
else
  die "no public key to check the bundle's signature: pass --public-key <file> (or --allow-unsigned)"
fi
NODE=$BUNDLE/toolchain/bin/node
[[ -x $NODE ]] || NODE=$(command -v node || true)
[[ -n $NODE ]] || die "no Node.js: the bundle was made with --no-node and node is not on PATH"
if [[ $NODE != "$BUNDLE/toolchain/bin/node" ]]; then
  node_major=$("$NODE" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  ((node_major >= 24)) || die "the bundle was made with --no-node and $NODE is Node.js $("$NODE" --version 2>/dev/null): it needs Node.js 24"
fi
# The checker itself must be intact before it checks the rest (sha256sum is in coreutils).
if command -v sha256sum >/dev/null; then
  (cd "$BUNDLE" && grep -E '  (toolchain/bin/node|tools/[^/]+\.js)$' SHA256SUMS | sha256sum --quiet --strict -c -) ||
    die "the bundle's own tools do not match SHA256SUMS: do not deploy it"
fi
"$NODE" "$BUNDLE/tools/site.js" verify "$BUNDLE" || die "checksum verification failed (nothing was changed)"
read -r STACK PROJECT < <("$NODE" -e 'const b=require(process.argv[1]);console.log(b.stack, b.project)' "$BUNDLE/BUNDLE.json")
say "  stack $STACK of project $PROJECT; $("$NODE" --version) ($NODE)"

# ------------------------------------------------------------------------------------------------------------
step "setting up the offline environment"
SITE_DIR=${SITE_DIR:-$(dirname "$BUNDLE")/keel-site}
mkdir -p "$SITE_DIR/backend" "$SITE_DIR/pulumi-home/plugins" "$SITE_DIR/logs"
SITE_DIR=$(cd "$SITE_DIR" && pwd)
OUT_DIR=$(dirname "$BUNDLE")
LOG=$SITE_DIR/logs/deploy-$STACK-$(date -u +%Y%m%dT%H%M%SZ).log
export PATH="$BUNDLE/toolchain/bin:$(dirname "$NODE"):$PATH"
export PULUMI_HOME=$SITE_DIR/pulumi-home
export PULUMI_BACKEND_URL=file://$SITE_DIR/backend
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
# The bundle's plugins, in the site's plugin cache (the engine writes lock files there, never into the bundle).
for dir in "$BUNDLE"/pulumi-home/plugins/*/; do
  name=$(basename "$dir")
  if ! diff -rq "$dir" "$PULUMI_HOME/plugins/$name" >/dev/null 2>&1; then
    rm -rf "$PULUMI_HOME/plugins/$name" "$PULUMI_HOME/plugins/$name.partial"
    cp -al "$dir" "$PULUMI_HOME/plugins/$name" 2>/dev/null || cp -a "$dir" "$PULUMI_HOME/plugins/$name"
  fi
done
[[ -n $KUBECONFIG_FILE ]] || die "no kubeconfig: pass --kubeconfig <file> or set KUBECONFIG"
[[ -f $KUBECONFIG_FILE ]] || die "kubeconfig $KUBECONFIG_FILE not found"
export KUBECONFIG=$KUBECONFIG_FILE
if [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
  [[ -t 0 ]] || die "no passphrase: set PULUMI_CONFIG_PASSPHRASE(_FILE) or pass --passphrase-file"
  read -rsp "passphrase of stack $STACK: " PULUMI_CONFIG_PASSPHRASE && echo >&2
  export PULUMI_CONFIG_PASSPHRASE
fi
[[ -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} || -f $PULUMI_CONFIG_PASSPHRASE_FILE ]] ||
  die "passphrase file $PULUMI_CONFIG_PASSPHRASE_FILE not found"
# Pulumi writes into the project folder (stack files), so it works on a copy; program and modules stay here.
WORK=$SITE_DIR/project-$STACK
mkdir -p "$WORK"
cp "$BUNDLE/project/Pulumi.yaml" "$BUNDLE/project/Pulumi.$STACK.yaml" "$BUNDLE/project/package.json" "$WORK/"
ln -sfn "$BUNDLE/project/bin" "$WORK/bin"
ln -sfn "$BUNDLE/project/node_modules" "$WORK/node_modules"
cd "$WORK"
say "  PULUMI_HOME=$PULUMI_HOME"
say "  PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL; automatic plugin downloads and update checks off"
say "  log: $LOG"

pulumi() { command pulumi "$@" --non-interactive; }
logged() { "$@" 2>&1 | tee -a "$LOG"; }

# ------------------------------------------------------------------------------------------------------------
if [[ -f $BUNDLE/images/images.json ]]; then
  step "pushing the bundle's images into the private registry"
else
  step "checking the images are in the private registry"
fi
if ((DESTROY)); then
  say "  skipped (--destroy)"
elif [[ -f $BUNDLE/images/images.json ]]; then
  [[ -z $CATALOG ]] || say "  --registry-catalog ignored: the bundle carries its images and checks them in the registry"
  "$NODE" "$BUNDLE/tools/site.js" push-images "$BUNDLE" --crane "$BUNDLE/toolchain/bin/crane" \
    --record "$OUT_DIR/keel-$STACK-images.txt" "${INSECURE[@]}" ||
    die "the private registry does not hold every image (nothing was deployed)"
else
  args=("$BUNDLE/images.txt")
  [[ -z $CATALOG ]] || args+=(--catalog "$CATALOG")
  ((ALLOW_MISSING == 0)) || args+=(--allow-missing)
  "$NODE" "$BUNDLE/tools/site.js" images "${args[@]}" || die "images missing from the registry (nothing was changed)"
fi

# ------------------------------------------------------------------------------------------------------------
step "selecting stack $STACK in the site backend"
BUNDLE_STATE=$BUNDLE/state/$STACK.json
if [[ -f $BUNDLE_STATE ]]; then
  "$NODE" "$BUNDLE/tools/site.js" state-info "$BUNDLE_STATE" --project "$PROJECT" --stack "$STACK" >/dev/null ||
    die "the bundle's state is not this stack's"
fi
if pulumi stack select "$STACK" >/dev/null 2>&1; then
  if [[ -f $BUNDLE_STATE ]] && ((IMPORT_STATE)); then
    backup=$SITE_DIR/backups/$STACK-$(date -u +%Y%m%dT%H%M%SZ).json
    mkdir -p "$(dirname "$backup")"
    pulumi stack export --stack "$STACK" --file "$backup"
    pulumi stack import --stack "$STACK" --file "$BUNDLE_STATE" >/dev/null
    say "  imported the bundle's state (--import-state); the site's previous state is in $backup"
  elif [[ -f $BUNDLE_STATE ]]; then
    site_state=$SITE_DIR/logs/site-$STACK.json
    pulumi stack export --stack "$STACK" --file "$site_state"
    if [[ $("$NODE" "$BUNDLE/tools/site.js" state-compare "$BUNDLE_STATE" "$site_state") == newer ]]; then
      die "the bundle carries a newer state than the site backend (restored from an old copy?): if the bundle's is right, run again with --import-state"
    fi
    say "  the site backend holds the stack: its state is used (it is as new as the bundle's or newer)"
  else
    say "  the site backend holds the stack: its state is used"
  fi
else
  pulumi stack init "$STACK" --secrets-provider passphrase >/dev/null
  if [[ -f $BUNDLE_STATE ]]; then
    pulumi stack import --stack "$STACK" --file "$BUNDLE_STATE" >/dev/null
    say "  new site backend: imported the state the bundle carries"
  else
    say "  new stack (the bundle carries no state)"
  fi
fi
current=$SITE_DIR/logs/current-$STACK.json
pulumi stack export --stack "$STACK" --file "$current"
read -r info < <("$NODE" "$BUNDLE/tools/site.js" state-info "$current")
say "  state: $info"
if [[ $info == *" pending=0 "* ]]; then :; else
  say "  the state records interrupted operations: reconciling with the cluster (refresh --clear-pending-creates)"
  logged pulumi refresh --yes --skip-preview --clear-pending-creates --stack "$STACK" || die "refresh failed"
fi

export_state() {
  STATE_OUT=${STATE_OUT:-$OUT_DIR/keel-$STACK-state-$(date -u +%Y%m%dT%H%M%SZ).json}
  mkdir -p "$(dirname "$STATE_OUT")"
  pulumi stack export --stack "$STACK" --file "$STATE_OUT"
  say "  state export: $STATE_OUT (secrets stay encrypted): carry it back for the next bundle"
  local ca
  if ca=$(pulumi stack output caCertificate --stack "$STACK" 2>/dev/null) && [[ $ca == *"BEGIN CERTIFICATE"* ]]; then
    printf '%s\n' "$ca" >"$(dirname "$STATE_OUT")/keel-$STACK-ca.crt"
    say "  CA certificate: $(dirname "$STATE_OUT")/keel-$STACK-ca.crt (clients must trust it)"
  fi
}

POLICY=(--policy-pack "$BUNDLE/policy-pack" --policy-pack-config "$BUNDLE/policy-config.json")
if ((DESTROY)); then
  if ((YES == 0)); then
    read -rp "destroy every resource of stack $STACK? type the stack name: " answer
    [[ $answer == "$STACK" ]] || die "not confirmed"
  fi
  step "destroying stack $STACK"
  logged pulumi destroy --yes --skip-preview --stack "$STACK" || { export_state; die "destroy failed"; }
  step "exporting the state"
  export_state
  say "done in $((SECONDS - START)) s"
  exit 0
fi

# ------------------------------------------------------------------------------------------------------------
step "previewing with the policy pack (nothing is changed)"
logged pulumi preview --stack "$STACK" --diff=false "${POLICY[@]}" ||
  die "preview failed or the policy pack refused the stack (nothing was changed); see $LOG"
if ((PREVIEW_ONLY)); then
  say "done (--preview-only) in $((SECONDS - START)) s"
  exit 0
fi

# ------------------------------------------------------------------------------------------------------------
step "pulumi up (progress below)"
if ! logged pulumi up --yes --skip-preview --stack "$STACK" "${POLICY[@]}"; then
  export_state
  die "pulumi up failed: fix the cause and run deploy.sh again (it resumes from the saved state); see $LOG"
fi

# ------------------------------------------------------------------------------------------------------------
step "exporting the state to carry back"
export_state
say "  endpoints: $(pulumi stack output endpoints --json --stack "$STACK" | tr -d '\n ' || true)"
say "done in $((SECONDS - START)) s"

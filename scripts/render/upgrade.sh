#!/usr/bin/env bash
# `bash scripts/render/upgrade.sh <rev> [stack]`: proves a refactor keeps an existing stack as it is. Deploys
# <stack> (default dev) as revision <rev> built it onto the local cluster, in a private backend, then runs
# `pulumi up --expect-no-changes` with this tree's program on that state, and destroys the stack. Needs the
# local cluster without keel's namespaces (it starts it when it is down); takes about 10 minutes.
set -euo pipefail
rev=${1:?usage: upgrade.sh <rev> [stack]}
stack=${2:-dev}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/keel-upgrade-XXXXXX)
# shellcheck source=../env.sh
. "$root/scripts/env.sh"
export PULUMI_BACKEND_URL=file://$work/state PULUMI_CONFIG_PASSPHRASE=keel-upgrade-check
unset PULUMI_CONFIG_PASSPHRASE_FILE
mkdir -p "$work/state"

# A worktree of `$1` in $work/$2 with this tree's node_modules, @keel/* pointing at its own components, built.
tree() {
  local dir=$work/$2
  git -C "$root" worktree add --detach --quiet "$dir" "$1"
  mkdir -p "$dir/node_modules/@keel"
  for e in "$root"/node_modules/* "$root"/node_modules/.bin; do
    [[ $(basename "$e") == @keel ]] || ln -s "$e" "$dir/node_modules/$(basename "$e")"
  done
  for d in "$dir"/components/*/; do ln -s "../../components/$(basename "$d")" "$dir/node_modules/@keel/$(basename "$d")"; done
  (cd "$dir" && node "$root/node_modules/typescript/bin/tsc" -b)
}

cleanup() {
  (cd "$work/before" 2>/dev/null && pulumi destroy --yes --skip-preview --stack "$stack" --non-interactive >/dev/null) || true
  git -C "$root" worktree remove --force "$work/before" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

keel_say "building $rev and this tree"
tree "$rev" before
(cd "$root" && node node_modules/typescript/bin/tsc -b)

cd "$work/before"
sed -i '/^encryptionsalt:/d' "Pulumi.$stack.yaml"
pulumi login --non-interactive "$PULUMI_BACKEND_URL" >/dev/null
pulumi stack init "$stack" --secrets-provider passphrase --non-interactive >/dev/null
keel_say "pulumi up of $stack as $rev built it"
pulumi up --yes --skip-preview --stack "$stack" --non-interactive | tail -n 4

keel_say "pulumi up of $stack with this tree's program, expecting no change"
cd "$root"
pulumi up --yes --skip-preview --expect-no-changes --stack "$stack" --non-interactive \
  --config-file "$work/before/Pulumi.$stack.yaml" | tail -n 4
keel_say "no change: every URN and input of $stack is as $rev left it"

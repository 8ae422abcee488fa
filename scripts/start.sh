#!/usr/bin/env bash
# `npm start`: build what is missing, start the local cluster, deploy the dev stack.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=${KEEL_STACK:-dev}
# shellcheck source=env.sh
. scripts/env.sh

[[ -d node_modules ]] || { keel_say "installing npm dependencies"; npm ci --no-audit --no-fund; }
[[ -d policy-pack/node_modules ]] || { keel_say "installing the policy pack's dependencies"; npm ci --prefix policy-pack --no-audit --no-fund; }
keel_say "compiling the program"
npm run -s build

keel_say "selecting stack $STACK on $PULUMI_BACKEND_URL"
pulumi login --non-interactive "$PULUMI_BACKEND_URL" >/dev/null
pulumi stack select --create --non-interactive --secrets-provider passphrase "$STACK"

keel_say "pulumi up of $STACK (progress below)"
if ! pulumi up --yes --non-interactive --stack "$STACK" --policy-pack policy-pack "$@"; then
  keel_say "pulumi up failed. Fix the reported problem and run 'npm start' again; it resumes from the saved state."
  keel_say "If the cluster went away mid-update, see 'Recovering an interrupted update' in README.md."
  exit 1
fi
keel_say "done: 'pulumi stack output --stack $STACK' shows endpoints and Secret names"

#!/usr/bin/env bash
# `npm start`: install the pinned Node.js and the npm dependencies when missing or out of date, build what is
# missing, start the local cluster, deploy the dev stack.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=${KEEL_STACK:-dev}
# shellcheck source=env.sh
. scripts/env.sh

keel_node_deps
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

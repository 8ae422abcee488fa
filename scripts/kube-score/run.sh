#!/usr/bin/env bash
# `npm run kube-score [-- <kube-score score flags>]`: renders the dev and prod stacks with the unit tests'
# Pulumi mocks (scripts/render), scores both with kube-score and prints, per check, how many objects it
# grades critical or warning on each stack. Full JSON reports are left next to the rendered files.
# The review of every finding is in policy-pack/docs/coverage.md ("kube-score over our own stacks").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${KUBE_SCORE_OUT:-$root/bin/kube-score}
ks=$(bash "$root/scripts/kube-score/install.sh")
echo "kube-score $(go version -m "$ks" | awk '$1 == "mod" { print $3 }') ($ks)"

(cd "$root" && npx tsc -b && node bin/scripts/render/main.js "$out" dev prod)

for stack in dev prod; do
  # kube-score exits 1 whenever some check is critical; only a report that is not JSON is a failure.
  "$ks" score --output-format json "$@" "$out/$stack.yaml" >"$out/$stack.json" || true
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$out/$stack.json" 2>/dev/null || {
    echo "kube-score could not score $out/$stack.yaml:" >&2
    "$ks" score "$@" "$out/$stack.yaml" >&2 || true
    exit 1
  }
done

node - "$out/dev.json" "$out/prod.json" <<'JS'
const fs = require("fs");
const grades = { 1: "critical", 5: "warning" };
const counts = new Map();
const [dev, prod] = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
for (const [stack, report] of [["dev", dev], ["prod", prod]]) {
  for (const object of report) {
    for (const c of object.checks) {
      if (c.skipped || !grades[c.grade]) continue;
      const key = `${c.check.id} (${grades[c.grade]})`;
      const row = counts.get(key) ?? { dev: 0, prod: 0 };
      row[stack]++;
      counts.set(key, row);
    }
  }
}
console.log(`objects scored: dev ${dev.length}, prod ${prod.length}`);
console.log(`${"check (grade)".padEnd(72)} ${"dev".padStart(5)} ${"prod".padStart(5)}`);
for (const [key, row] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`${key.padEnd(72)} ${String(row.dev).padStart(5)} ${String(row.prod).padStart(5)}`);
}
if (counts.size === 0) console.log("no critical or warning grade");
JS

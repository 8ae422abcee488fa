#!/usr/bin/env bash
# Operator's tool for a keel PostgreSQL's dumps (docs/backup-restore.md). Runs one-off Jobs built from the
# backup CronJob `<app>-backup` itself: same image, user, security context, credentials Secret, backup
# volume and labels (so the NetworkPolicies that let the CronJob reach the server let the Job too); only
# the container's command changes.
#
#   scripts/postgres/backups.sh [--print] -n NAMESPACE [-a APP] list
#   scripts/postgres/backups.sh [--print] -n NAMESPACE [-a APP] backup
#   scripts/postgres/backups.sh [--print] -n NAMESPACE [-a APP] [-d DATABASE] [--into DATABASE] restore [FILE]
#
#   list     lists the dumps on the backup volume, newest first
#   backup   takes a dump now (the CronJob's own script)
#   restore  restores FILE (a name on the backup volume, e.g. synapse-20250101T031700Z.sql.gz), or the newest
#            dump of the database, with postgresRestoreScript() from @keel/core, the script
#            test/e2e/backup-restore.spec.ts proves. The database must exist and be empty: see
#            docs/backup-restore.md.
#   APP      the database server's app name (default: postgres)
#   -d       the database whose dumps to restore, e.g. keycloak (default: the application database, the
#            CronJob's PGDATABASE); the job restores as the server's superuser, so ownership comes back
#   --into   restores into DATABASE (which must exist, empty) instead of the dumped database itself: a drill
#            that leaves the application alone
#   --print  prints the Job manifest instead of creating it
#
# Needs kubectl with access to the namespace, and this repository built (npm ci && npm run build): the
# restore script is taken from the compiled @keel/core, so it is exactly the one the program deploys.
# Exits non-zero when the Job fails; its log is printed either way.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
usage() { sed -n '7,9p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; exit 2; }

namespace="" app=postgres print=0 into="" database=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -n | --namespace) namespace=${2:?}; shift 2 ;;
    -a | --app) app=${2:?}; shift 2 ;;
    --print) print=1; shift ;;
    --into) into=${2:?}; shift 2 ;;
    -d | --database) database=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) break ;;
  esac
done
[[ -n $namespace && $# -ge 1 ]] || usage
action=$1
file=${2:-}
case $action in
  list | backup) [[ -z $file && -z $into && -z $database ]] || usage ;;
  restore) [[ -z $into || $into =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { echo "--into must be a lower-case SQL identifier, got: $into" >&2; exit 2; }
    [[ -z $database || $database =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { echo "-d must be a lower-case SQL identifier, got: $database" >&2; exit 2; }
    [[ -z $file || $file =~ ^[A-Za-z0-9._-]+\.sql\.gz$ ]] || { echo "FILE must be a dump's name (*.sql.gz) on the backup volume, got: $file" >&2; exit 2; } ;;
  *) usage ;;
esac

cronjob=$app-backup
job=$app-$action-$(date -u +%Y%m%d%H%M%S)
kubectl -n "$namespace" get cronjob "$cronjob" >/dev/null ||
  { echo "no CronJob $cronjob in namespace $namespace (is -a the database's app name?)" >&2; exit 1; }

# kubectl renders the Job the CronJob would start; node swaps the command (and names the container after the
# action), sets which dumps to restore into which database (BACKUP_OF, PGDATABASE, BACKUP_FILE), allows no
# retry and detaches the Job from the CronJob.
# shellcheck disable=SC2016 # the single-quoted text is JavaScript
manifest=$(kubectl -n "$namespace" create job "$job" --from="cronjob/$cronjob" --dry-run=client -o json |
  (cd "$REPO" && ACTION=$action FILE=$file INTO=$into DATABASE=$database node -e '
    const fs = require("fs");
    const job = JSON.parse(fs.readFileSync(0, "utf8"));
    const { ACTION: action, FILE: file, INTO: into, DATABASE: database } = process.env;
    const container = job.spec.template.spec.containers[0];
    if (action !== "backup") {
      let script;
      if (action === "list") {
        script = "ls -lt --time-style=+%Y-%m-%dT%H:%M:%S \"${BACKUP_DIR:-/backups}\"";
      } else {
        try {
          script = require("@keel/core").postgresRestoreScript();
        } catch (e) {
          console.error(`cannot load @keel/core (run npm ci && npm run build first): ${e.message}`);
          process.exit(1);
        }
      }
      container.name = action;
      container.command = ["bash", "-c", script];
    }
    container.env = container.env ?? [];
    const target = container.env.find((e) => e.name === "PGDATABASE");
    const of = database || target.value;
    if (into || database) {
      const dumped = container.env.find((e) => e.name === "DATABASES");
      if (dumped && !dumped.value.split(" ").includes(of)) {
        console.error(`the CronJob dumps ${dumped.value}, not ${of}`);
        process.exit(2);
      }
      container.env.push({ name: "BACKUP_OF", value: of });
      target.value = into || of;
    }
    if (file) container.env.push({ name: "BACKUP_FILE", value: `/backups/${file}` });
    job.spec.backoffLimit = 0;
    delete job.metadata.ownerReferences;
    delete job.metadata.annotations?.["cronjob.kubernetes.io/instantiate"];
    process.stdout.write(JSON.stringify(job, null, 2) + "\n");
  '))

if [[ $print == 1 ]]; then
  printf '%s\n' "$manifest"
  exit 0
fi

kubectl -n "$namespace" create -f - <<<"$manifest" >&2
echo "waiting for job/$job in $namespace" >&2
while :; do
  status=$(kubectl -n "$namespace" get job "$job" -o jsonpath='{.status.succeeded}/{.status.failed}')
  [[ $status == 1/* ]] && result=0 && break
  [[ $status == */[1-9]* ]] && result=1 && break
  sleep 5
done
kubectl -n "$namespace" logs "job/$job" --all-containers || true
if [[ $result == 0 ]]; then echo "job/$job succeeded" >&2; else echo "job/$job FAILED" >&2; fi
exit "$result"

import { K8sObject, annotationsOf, asString, podSpecOf } from "../core/k8s";
import { commandWords } from "../core/app-settings";
import { databaseServers } from "../core/databases";
import { checkEach } from "../core/unknown";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";
import { annotations } from "../contract/conventions";

export const BACKUP_OF_ANNOTATION = annotations.backupOf;
export const RETENTION_ANNOTATION = annotations.backupRetention;

/** Commands that make a CronJob a database backup even when it does not say so with keel.dev/backup-of. */
const DUMP_TOOLS =
  /^(pg_dump|pg_dumpall|pg_basebackup|mysqldump|mysqlpump|mariadb-dump|mariadb-backup|mariabackup|xtrabackup|mongodump|neo4j-admin|clickhouse-backup|elasticdump)$/;

/** F20: every database is backed up by a CronJob that also deletes old backups. */
export const backupRetention = stackRule({
  id: "backup-retention",
  findings: ["F20"],
  description:
    "Every database (keel.dev/database, or a postgres/mysql/mariadb/mongo/clickhouse/neo4j/elasticsearch image) has a CronJob annotated keel.dev/backup-of: <id> with keel.dev/backup-retention ≥ 1; a CronJob that runs a dump tool (pg_dump, mysqldump, mongodump...) declares its retention.",
  fix: 'CronJob that deletes all but the newest n dumps, annotated `keel.dev/backup-of: <id>` and `keel.dev/backup-retention: "<n ≥ 1>"`',
  defaultLevel: "mandatory",
  config: NO_CONFIG,
  check(stack) {
    const violations: Violation[] = [];
    const backups = new Map<string, K8sObject[]>();
    checkEach(stack.ofKind("CronJob"), violations, (cronJob) => {
      const annotations = annotationsOf(cronJob);
      const target = asString(annotations[BACKUP_OF_ANNOTATION])?.trim();
      if (!target) {
        const tool = dumpTool(cronJob);
        if (tool) {
          violations.push({
            subject: cronJob,
            message: `the CronJob backs up a database with ${tool} but declares no retention: make it delete all but the newest N backups and annotate it ${BACKUP_OF_ANNOTATION}: <database id> and ${RETENTION_ANNOTATION}: "<N ≥ 1>"`,
          });
        }
        return;
      }
      backups.set(target, [...(backups.get(target) ?? []), cronJob]);
      const retention = annotations[RETENTION_ANNOTATION];
      if (retention === undefined || !/^\s*\d+\s*$/.test(String(retention)) || Number(retention) < 1) {
        violations.push({
          subject: cronJob,
          message: `set annotation ${RETENTION_ANNOTATION} to the number of backups kept (integer ≥ 1; it is ${retention === undefined ? "unset" : `'${String(retention)}'`}) and make the job delete older ones`,
        });
      }
    });
    const servers = databaseServers(stack, violations);
    checkEach(
      servers,
      violations,
      (server) => {
        if (!backups.has(server.id)) {
          violations.push({
            subject: server.workload,
            message:
              `no backup CronJob for database '${server.id}': add a CronJob annotated ${BACKUP_OF_ANNOTATION}: ${server.id} and ${RETENTION_ANNOTATION}: "<n ≥ 1>"` +
              (server.heuristic ? " (or annotate the workload keel.dev/database with its id)" : ""),
          });
        }
      },
      (server) => server.workload,
    );
    return violations;
  },
});

/** The dump tool a CronJob's containers run, if any (`/usr/bin/pg_dump`, `sh -c "pg_dumpall ..."`). */
function dumpTool(cronJob: K8sObject): string | undefined {
  const containers = podSpecOf(cronJob)?.containers ?? [];
  for (const container of Array.isArray(containers) ? containers : []) {
    const tool = commandWords(container)
      .map((w) => w.replace(/^.*\//, "").replace(/[;&|)]+$/, ""))
      .find((w) => DUMP_TOOLS.test(w));
    if (tool) {
      return tool;
    }
  }
  return undefined;
}

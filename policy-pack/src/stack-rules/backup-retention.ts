import { K8sObject, annotationsOf, asString } from "../core/k8s";
import { databaseServers } from "../core/databases";
import { checkEach } from "../core/unknown";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";

export const BACKUP_OF_ANNOTATION = "keel.dev/backup-of";
export const RETENTION_ANNOTATION = "keel.dev/backup-retention";

/** F20: every database is backed up by a CronJob that also deletes old backups. */
export const backupRetention = stackRule({
    id: "backup-retention",
    findings: ["F20"],
    description: "Every database (keel.dev/database, or a postgres/mysql/mariadb/mongo/clickhouse/neo4j/elasticsearch image) has a CronJob annotated keel.dev/backup-of: <id> with keel.dev/backup-retention ≥ 1.",
    defaultLevel: "mandatory",
    config: NO_CONFIG,
    check(stack) {
        const violations: Violation[] = [];
        const backups = new Map<string, K8sObject[]>();
        checkEach(stack.ofKind("CronJob"), violations, cronJob => {
            const annotations = annotationsOf(cronJob);
            const target = asString(annotations[BACKUP_OF_ANNOTATION])?.trim();
            if (!target) {
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
        checkEach(servers, violations, server => {
            if (!backups.has(server.id)) {
                violations.push({
                    subject: server.workload,
                    message: `no backup CronJob for database '${server.id}': add a CronJob annotated ${BACKUP_OF_ANNOTATION}: ${server.id} and ${RETENTION_ANNOTATION}: "<n ≥ 1>"` +
                        (server.heuristic ? " (or annotate the workload keel.dev/database with its id)" : ""),
                });
            }
        }, server => server.workload);
        return violations;
    },
});

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { annotations as keys, appLabels } from "./conventions";
import { ValidationError, throwIfInvalid } from "./errors";
import { toPolicyPeer } from "./network";
import { ResourceSpec, toK8sResources } from "./resources";
import { SecretKeyRef } from "./volumes";

/** When and how many backups to keep. */
export interface BackupPolicy {
  /** Cron schedule. @default "17 3 * * *" */
  schedule?: string;
  /** Backups kept; older ones are deleted by the job itself (F20). @default 7 */
  retain?: number;
  /** Storage class of the backup volume. */
  storageClass: string;
  /** @default "20Gi" */
  size?: string;
}

export interface PostgresBackupArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** The database id (`keel.dev/backup-of`). */
  databaseId: string;
  /** The app name of the database server (its Service). */
  serverApp: string;
  image: string;
  database: string;
  user: string;
  password: SecretKeyRef;
  policy: BackupPolicy;
  /** @default 999 (postgres) */
  runAsUser?: number;
}

export function validateBackupPolicy(p: BackupPolicy): ValidationError[] {
  const problems: ValidationError[] = [];
  const retain = p.retain ?? 7;
  if (!Number.isInteger(retain) || retain < 1 || retain > 365) {
    problems.push(new ValidationError("backup.retain", `must be an integer from 1 to 365, got ${retain}`));
  }
  const schedule = p.schedule ?? "17 3 * * *";
  if (schedule.trim().split(/\s+/).length !== 5) {
    problems.push(new ValidationError("backup.schedule", `"${schedule}" is not a 5-field cron expression`));
  }
  if (!p.storageClass?.trim()) problems.push(new ValidationError("backup.storageClass", "is required"));
  return problems;
}

/** The backup script: dump to a temp name, rename when complete, delete all but the newest N. */
export function postgresBackupScript(): string {
  return [
    "set -euo pipefail",
    'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
    'file="/backups/${PGDATABASE}-${stamp}.sql.gz"',
    'pg_dump --no-owner --format=plain | gzip > "${file}.partial"',
    'mv "${file}.partial" "${file}"',
    'ls -1t /backups/*.sql.gz | tail -n +"$((RETAIN + 1))" | xargs -r rm -f --',
    'echo "backup ${file} written; kept: $(ls /backups/*.sql.gz | wc -l)"',
  ].join("\n");
}

/** The restore script (run by hand or by a Job): newest backup, or $BACKUP_FILE, into the database. */
export function postgresRestoreScript(): string {
  return [
    "set -euo pipefail",
    'file="${BACKUP_FILE:-$(ls -1t /backups/*.sql.gz | head -n 1)}"',
    'echo "restoring ${file}"',
    'gunzip -c "${file}" | psql --set ON_ERROR_STOP=1 --single-transaction',
  ].join("\n");
}

/**
 * A CronJob that dumps a PostgreSQL database to its own volume and keeps the newest `retain` dumps; it
 * never runs twice at once and gives up when it misses its start by more than 10 minutes.
 */
export class PostgresBackup extends pulumi.ComponentResource {
  readonly claimName: pulumi.Output<string>;

  constructor(name: string, args: PostgresBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:PostgresBackup", name, {}, opts);
    throwIfInvalid(validateBackupPolicy(args.policy));
    const app = `${args.serverApp}-backup`;
    const labels = appLabels(app, args.partOf);
    const retain = args.policy.retain ?? 7;
    const uid = args.runAsUser ?? 999;
    const meta = { name: app, namespace: args.namespace, labels };

    const claim = new k8s.core.v1.PersistentVolumeClaim(
      `${name}-volume`,
      {
        metadata: meta,
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: args.policy.storageClass,
          resources: { requests: { storage: args.policy.size ?? "20Gi" } },
        },
      },
      { parent: this, retainOnDelete: true },
    );
    this.claimName = claim.metadata.name;

    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta,
        spec: {
          podSelector: { matchLabels: { "app.kubernetes.io/name": app } },
          policyTypes: ["Ingress", "Egress"],
          ingress: [],
          egress: [{ to: [toPolicyPeer({ app: args.serverApp })], ports: [{ port: 5432, protocol: "TCP" }] }],
        },
      },
      { parent: this },
    );

    const resources: ResourceSpec = {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    };
    new k8s.batch.v1.CronJob(
      `${name}`,
      {
        metadata: {
          ...meta,
          annotations: { [keys.backupOf]: args.databaseId, [keys.backupRetention]: String(retain) },
        },
        spec: {
          schedule: args.policy.schedule ?? "17 3 * * *",
          concurrencyPolicy: "Forbid",
          startingDeadlineSeconds: 600,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 2,
              activeDeadlineSeconds: 3600,
              ttlSecondsAfterFinished: 7 * 24 * 3600,
              template: {
                metadata: { labels },
                spec: {
                  restartPolicy: "Never",
                  automountServiceAccountToken: false,
                  securityContext: {
                    runAsNonRoot: true,
                    runAsUser: uid,
                    runAsGroup: uid,
                    fsGroup: uid,
                    fsGroupChangePolicy: "OnRootMismatch",
                    seccompProfile: { type: "RuntimeDefault" },
                  },
                  containers: [
                    {
                      name: "backup",
                      image: args.image,
                      command: ["bash", "-c", postgresBackupScript()],
                      env: [
                        { name: "PGHOST", value: args.serverApp },
                        { name: "PGDATABASE", value: args.database },
                        { name: "PGUSER", value: args.user },
                        { name: "RETAIN", value: String(retain) },
                        {
                          name: "PGPASSWORD",
                          valueFrom: {
                            secretKeyRef: { name: args.password.secretName, key: args.password.key },
                          },
                        },
                      ],
                      resources: toK8sResources(resources),
                      securityContext: {
                        runAsNonRoot: true,
                        allowPrivilegeEscalation: false,
                        readOnlyRootFilesystem: true,
                        privileged: false,
                        capabilities: { drop: ["ALL"] },
                        seccompProfile: { type: "RuntimeDefault" },
                      },
                      volumeMounts: [
                        { name: "backups", mountPath: "/backups" },
                        { name: "tmp", mountPath: "/tmp" },
                      ],
                    },
                  ],
                  volumes: [
                    { name: "backups", persistentVolumeClaim: { claimName: claim.metadata.name } },
                    { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                  ],
                },
              },
            },
          },
        },
      },
      { parent: this },
    );
    this.registerOutputs({ claimName: this.claimName });
  }
}

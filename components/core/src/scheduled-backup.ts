import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BackupPolicy, validateBackupPolicy } from "./backup-policy";
import { annotations as keys, appLabels } from "./conventions";
import { ValidationError, throwIfInvalid } from "./errors";
import { BatchJob } from "./batch-job";
import { ResourceSpec } from "./resources";
import { SecretKeyRef, claimSizeIgnored } from "./volumes";

export interface ScheduledBackupArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** The database id (`keel.dev/backup-of`), also set as `keel.dev/database` on the server. */
  databaseId: string;
  /** The app name of the server (its Service); the job is `<serverApp>-backup`. */
  serverApp: string;
  /** Ports of the server the job talks to. */
  serverPorts: number[];
  /** An image with the server's client tools (usually the server's own image). */
  image: string;
  runAsUser: number;
  /**
   * The bash script: it writes under /backups (when the job has a volume) or asks the server to, and keeps
   * the newest `$RETAIN` backups (deleting older ones itself).
   */
  script: string;
  /** @default {} */
  env?: Record<string, string>;
  /** @default {} */
  secretEnv?: Record<string, SecretKeyRef>;
  policy: BackupPolicy;
  /** The job writes dumps to a volume of its own; off when the server stores the backups. @default true */
  volume?: boolean;
  /** @default 100m/128Mi requests, 500m/512Mi limits */
  resources?: ResourceSpec;
}

export function validateScheduledBackupArgs(args: ScheduledBackupArgs): ValidationError[] {
  const problems = validateBackupPolicy(args.policy);
  if (!/tail -n \+/.test(args.script)) {
    problems.push(
      new ValidationError("script", "must delete all but the newest $RETAIN backups (tail -n +…)"),
    );
  }
  if (!Number.isInteger(args.runAsUser) || args.runAsUser <= 0) {
    problems.push(new ValidationError("runAsUser", "must be a positive integer (never root)"));
  }
  return problems;
}

/**
 * A scheduled dump of any data store, with the same guarantees as the PostgreSQL backups: it never runs twice
 * at once, gives up when it misses its start by 10 minutes, keeps the newest N backups and talks only to
 * its server.
 */
export class ScheduledBackup extends pulumi.ComponentResource {
  constructor(name: string, args: ScheduledBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:ScheduledBackup", name, {}, opts);
    throwIfInvalid(validateScheduledBackupArgs(args));
    const app = `${args.serverApp}-backup`;
    const retain = args.policy.retain ?? 7;
    const withVolume = args.volume ?? true;

    const claim = withVolume
      ? new k8s.core.v1.PersistentVolumeClaim(
          `${name}-volume`,
          {
            metadata: { name: app, namespace: args.namespace, labels: appLabels(app, args.partOf) },
            spec: {
              accessModes: ["ReadWriteOnce"],
              storageClassName: args.policy.storageClass,
              resources: { requests: { storage: args.policy.size ?? "20Gi" } },
            },
          },
          { parent: this, retainOnDelete: true, ignoreChanges: claimSizeIgnored },
        )
      : undefined;

    new BatchJob(
      name,
      {
        namespace: args.namespace,
        partOf: args.partOf,
        appName: app,
        image: args.image,
        command: ["bash", "-c", args.script],
        runAsUser: args.runAsUser,
        resources: args.resources ?? {
          requests: { cpu: "100m", memory: "128Mi" },
          limits: { cpu: "500m", memory: "512Mi" },
        },
        schedule: args.policy.schedule ?? "17 3 * * *",
        annotations: { [keys.backupOf]: args.databaseId, [keys.backupRetention]: String(retain) },
        env: { RETAIN: String(retain), SERVER: args.serverApp, ...args.env },
        secretEnv: args.secretEnv,
        sharedVolumes: claim
          ? [{ name: "backups", mountPath: "/backups", claimName: claim.metadata.name }]
          : [],
        egressTo: [{ app: args.serverApp, ports: args.serverPorts }],
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

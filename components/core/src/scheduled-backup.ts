import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BackupPolicy, validateBackupPolicy } from "./backup-policy";
import { annotations as keys, appLabels } from "./conventions";
import { ValidationError, throwIfInvalid } from "./errors";
import { toPolicyPeer } from "./network";
import { ResourceSpec, toK8sResources } from "./resources";
import { SecretKeyRef } from "./volumes";

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
    const labels = appLabels(app, args.partOf);
    const retain = args.policy.retain ?? 7;
    const uid = args.runAsUser;
    const meta = { name: app, namespace: args.namespace, labels };
    const withVolume = args.volume ?? true;

    const claim = withVolume
      ? new k8s.core.v1.PersistentVolumeClaim(
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
        )
      : undefined;

    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta,
        spec: {
          podSelector: { matchLabels: { "app.kubernetes.io/name": app } },
          policyTypes: ["Ingress", "Egress"],
          ingress: [],
          egress: [
            {
              to: [toPolicyPeer({ app: args.serverApp })],
              ports: args.serverPorts.map((port) => ({ port, protocol: "TCP" })),
            },
          ],
        },
      },
      { parent: this },
    );

    const resources: ResourceSpec = args.resources ?? {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    };
    new k8s.batch.v1.CronJob(
      name,
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
                  enableServiceLinks: false,
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
                      command: ["bash", "-c", args.script],
                      env: [
                        { name: "RETAIN", value: String(retain) },
                        { name: "SERVER", value: args.serverApp },
                        ...Object.entries(args.env ?? {}).map(([n, value]) => ({ name: n, value })),
                        ...Object.entries(args.secretEnv ?? {}).map(([n, ref]) => ({
                          name: n,
                          valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } },
                        })),
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
                        ...(claim ? [{ name: "backups", mountPath: "/backups" }] : []),
                        { name: "tmp", mountPath: "/tmp" },
                      ],
                    },
                  ],
                  volumes: [
                    ...(claim
                      ? [{ name: "backups", persistentVolumeClaim: { claimName: claim.metadata.name } }]
                      : []),
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
    this.registerOutputs({});
  }
}

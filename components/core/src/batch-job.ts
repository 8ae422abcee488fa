import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appLabels } from "./conventions";
import { ValidationError, throwIfInvalid } from "./errors";
import { NetworkPeer, toPolicyPeer, toPolicyPorts } from "./network";
import { ResourceSpec, toK8sResources, validateResources } from "./resources";
import { secretRotationAnnotation } from "./secret-rotation";
import { SecretKeyRef, SharedVolume } from "./volumes";

export interface BatchJobArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** The app name: the Job/CronJob, its pods' label and its NetworkPolicy. */
  appName: string;
  image: string;
  command: string[];
  /** @default 65532 */
  runAsUser?: number;
  resources: ResourceSpec;
  /** A cron schedule makes a CronJob (never two runs at once, a start deadline); unset runs one Job. @default undefined */
  schedule?: string;
  /** Seconds a run may take before it is stopped. @default 3600 */
  deadlineSeconds?: number;
  /** A CronJob run that cannot start within this many seconds of its time is skipped. @default 600 */
  startingDeadlineSeconds?: number;
  /** @default {} */
  env?: Record<string, pulumi.Input<string>>;
  /** @default {} */
  secretEnv?: Record<string, SecretKeyRef>;
  /** @default [] */
  sharedVolumes?: SharedVolume[];
  /** Files (e.g. a script) mounted from a ConfigMap of the job's own. @default undefined */
  files?: { mountPath: string; files: Record<string, string> };
  /** What the job may connect to besides DNS. @default [] */
  egressTo?: NetworkPeer[];
  /** Annotations of the Job/CronJob (e.g. `keel.dev/backup-of`). @default {} */
  annotations?: Record<string, string>;
}

export function validateBatchJobArgs(args: BatchJobArgs): ValidationError[] {
  const problems = validateResources("resources", args.resources);
  if (args.schedule !== undefined && !/^(\S+\s+){4}\S+$/.test(args.schedule)) {
    problems.push(
      new ValidationError("schedule", `must be a five-field cron schedule, got "${args.schedule}"`),
    );
  }
  if ((args.runAsUser ?? 65532) === 0)
    problems.push(new ValidationError("runAsUser", "must not be 0 (root)"));
  return problems;
}

/**
 * A hardened batch job (one-off Job or CronJob): non-root, read-only root filesystem, no token, a
 * deadline, history cleaned up (TTL), never two runs at once, egress only where declared.
 */
export class BatchJob extends pulumi.ComponentResource {
  constructor(name: string, args: BatchJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:BatchJob", name, {}, opts);
    throwIfInvalid(validateBatchJobArgs(args));
    const app = args.appName;
    const labels = appLabels(app, args.partOf);
    const uid = args.runAsUser ?? 65532;
    const meta = { name: app, namespace: args.namespace, labels };

    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta,
        spec: {
          podSelector: { matchLabels: { "app.kubernetes.io/name": app } },
          policyTypes: ["Ingress", "Egress"],
          ingress: [],
          egress: (args.egressTo ?? []).map((peer) => ({
            to: [toPolicyPeer(peer)],
            ...(peer.ports ? { ports: toPolicyPorts(peer.ports) } : {}),
          })),
        },
      },
      { parent: this },
    );

    const config = args.files
      ? new k8s.core.v1.ConfigMap(
          `${name}-files`,
          { metadata: { ...meta, name: `${app}-files` }, data: args.files.files },
          { parent: this },
        )
      : undefined;

    // A rotation of the credentials it uses replaces a one-off Job (so it runs again with them).
    const rotated = secretRotationAnnotation(Object.values(args.secretEnv ?? {}));
    const podTemplate = {
      metadata: { labels, ...(Object.keys(rotated).length > 0 ? { annotations: rotated } : {}) },
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
            name: app,
            image: args.image,
            command: args.command,
            env: [
              ...Object.entries(args.env ?? {}).map(([n, value]) => ({ name: n, value })),
              ...Object.entries(args.secretEnv ?? {}).map(([n, ref]) => ({
                name: n,
                valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } },
              })),
            ],
            resources: toK8sResources(args.resources),
            securityContext: {
              runAsNonRoot: true,
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              privileged: false,
              capabilities: { drop: ["ALL"] },
              seccompProfile: { type: "RuntimeDefault" },
            },
            volumeMounts: [
              { name: "tmp", mountPath: "/tmp" },
              ...(config ? [{ name: "files", mountPath: args.files!.mountPath, readOnly: true }] : []),
              ...(args.sharedVolumes ?? []).map((v) => ({
                name: v.name,
                mountPath: v.mountPath,
                ...(v.readOnly ? { readOnly: true } : {}),
                ...(v.subPath ? { subPath: v.subPath } : {}),
              })),
            ],
          },
        ],
        volumes: [
          { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
          ...(config
            ? [{ name: "files", configMap: { name: config.metadata.name, defaultMode: 0o555 } }]
            : []),
          ...(args.sharedVolumes ?? []).map((v) => ({
            name: v.name,
            persistentVolumeClaim: { claimName: v.claimName, ...(v.readOnly ? { readOnly: true } : {}) },
          })),
        ],
      },
    };
    const jobSpec = {
      backoffLimit: 3,
      activeDeadlineSeconds: args.deadlineSeconds ?? 3600,
      ttlSecondsAfterFinished: 7 * 24 * 3600,
      template: podTemplate,
    };
    const annotated = { ...meta, annotations: args.annotations ?? {} };
    if (args.schedule) {
      new k8s.batch.v1.CronJob(
        name,
        {
          metadata: annotated,
          spec: {
            schedule: args.schedule,
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: args.startingDeadlineSeconds ?? 600,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
            jobTemplate: { spec: jobSpec },
          },
        },
        { parent: this },
      );
    } else {
      new k8s.batch.v1.Job(name, { metadata: annotated, spec: jobSpec }, { parent: this });
    }
    this.registerOutputs({});
  }
}

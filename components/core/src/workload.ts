import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { annotations as keys, appLabels, exemptionKey, selectorLabels } from "./conventions";
import { ValidationError, throwIfInvalid } from "./errors";
import { NetworkPeer, toPolicyPeer, toPolicyPorts } from "./network";
import { Probes, toK8sProbe, validateProbes } from "./probes";
import { parseMemory } from "./quantity";
import { ResourceSpec, toK8sResources, validateResources } from "./resources";
import { secretReason } from "./secret-detection";
import {
  ConfigFiles,
  PersistentVolume,
  ScratchVolume,
  SecretFiles,
  SecretKeyRef,
  SharedVolume,
} from "./volumes";

/** A port the container listens on. */
export interface WorkloadPort {
  name: string;
  port: number;
  /** @default "TCP" */
  protocol?: "TCP" | "UDP";
  /** Put the port on the workload's Service. @default true */
  expose?: boolean;
}

/** Horizontal autoscaling for a stateless workload. */
export interface Autoscaling {
  minReplicas: number;
  maxReplicas: number;
  /** @default 70 */
  cpuUtilization?: number;
  /** @default undefined (CPU only) */
  memoryUtilization?: number;
}

/** Host networking is an exception (e.g. coturn's relay ports); its reason is recorded as a policy exemption. */
export interface HostNetworkException {
  reason: string;
}

/** An added Linux capability needs a reason, recorded as a policy exemption on the workload. */
export interface CapabilityException {
  add: string[];
  reason: string;
}

export interface WorkloadArgs {
  /** Namespace to deploy into. */
  namespace: pulumi.Input<string>;
  /** The app name: the Kubernetes object names and the `app.kubernetes.io/name` label. @default the component name */
  appName?: string;
  /** The platform this workload belongs to (`app.kubernetes.io/part-of`). */
  partOf: string;
  /** @default "Deployment" */
  kind?: "Deployment" | "StatefulSet";
  /** Full image reference from the ImageResolver (pinned, registry applied). */
  image: string;
  /** @default undefined (image entrypoint) */
  command?: string[];
  /** @default undefined */
  args?: pulumi.Input<string>[];
  /** @default 1 */
  replicas?: number;
  /** Requests and limits; required (F1). */
  resources: ResourceSpec;
  /** Startup, readiness and liveness probes; required (F2). */
  probes: Probes;
  /** Seconds the app needs to boot; the startup probe budget must cover it. @default 0 */
  bootSeconds?: number;
  /** Ceiling on liveness failure-detection time (F3). @default 60 */
  maxLivenessDetectionSeconds?: number;
  /** @default [] */
  ports?: WorkloadPort[];
  /** Non-secret environment; a value that looks like a credential is refused (F5). @default {} */
  env?: Record<string, pulumi.Input<string>>;
  /** Environment from Secrets. @default {} */
  secretEnv?: Record<string, SecretKeyRef>;
  /** Environment from the downward API, name → fieldPath (e.g. `status.hostIP`). @default {} */
  fieldEnv?: Record<string, string>;
  /** UID the container runs as (never 0). @default 65532 */
  runAsUser?: number;
  /** @default runAsUser */
  runAsGroup?: number;
  /** Group that owns mounted volumes, instead of a root chown init container (F7). @default runAsGroup */
  fsGroup?: number;
  /** Data on PVCs with explicit storage classes (F4, F19). @default [] */
  persistentVolumes?: PersistentVolume[];
  /** Writable scratch space. `/tmp` is always provided. @default [] */
  scratchVolumes?: ScratchVolume[];
  /** Existing claims shared with other workloads (ReadWriteMany). @default [] */
  sharedVolumes?: SharedVolume[];
  /** @default [] */
  configFiles?: ConfigFiles[];
  /** @default [] */
  secretFiles?: SecretFiles[];
  /** A PodDisruptionBudget is created even with one replica. @default false */
  critical?: boolean;
  /** Creates an HPA; only for stateless workloads. @default undefined */
  autoscaling?: Autoscaling;
  /** Who may connect to the exposed ports (F13). @default [] (nobody) */
  allowFrom?: NetworkPeer[];
  /** What the pods may connect to besides DNS. @default [] */
  egressTo?: NetworkPeer[];
  /** Added capabilities with their documented reason (F23). @default undefined */
  capabilities?: CapabilityException;
  /** Host networking with its documented reason (F23); recorded as `exempt.keel.dev/host-namespaces`. @default undefined */
  hostNetwork?: HostNetworkException;
  /**
   * Share one process namespace in the pod: the pause container becomes PID 1 and reaps zombies, for images
   * without an init process (e.g. browsers). @default false
   */
  shareProcessNamespace?: boolean;
  /** At most one replica per node (required pod anti-affinity), e.g. for node-port media servers. @default false */
  oneReplicaPerNode?: boolean;
  /**
   * A StatefulSet's headless Service lists pods before they are ready, so peers resolve each other while
   * starting (e.g. Synapse's replication); client traffic still checks readiness itself. @default false
   */
  publishNotReadyAddresses?: boolean;
  /** @default 30 */
  terminationGracePeriodSeconds?: number;
  /** Deployment strategy; forced to Recreate with RWO volumes. @default "RollingUpdate" */
  strategy?: "RollingUpdate" | "Recreate";
  /** GPUs (`nvidia.com/gpu`); adds the GPU node selector and toleration. @default 0 */
  gpus?: number;
  /** Extra workload annotations (e.g. connection pools). @default {} */
  annotations?: Record<string, string>;
  /** Pod template annotations, e.g. a config checksum that rolls pods on change. @default {} */
  podAnnotations?: Record<string, pulumi.Input<string>>;
}

const dns1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Pure validation of WorkloadArgs; every problem names its field. */
export function validateWorkloadArgs(name: string, args: WorkloadArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  const app = args.appName ?? name;
  if (!dns1123.test(app)) problems.push(new ValidationError("appName", `"${app}" is not a DNS-1123 label`));
  const kind = args.kind ?? "Deployment";
  if (!["Deployment", "StatefulSet"].includes(kind)) {
    problems.push(new ValidationError("kind", `must be Deployment or StatefulSet, got "${kind}"`));
  }
  if (!args.image) problems.push(new ValidationError("image", "is required"));
  const replicas = args.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 0) {
    problems.push(new ValidationError("replicas", `must be a non-negative integer, got ${replicas}`));
  }
  problems.push(...validateResources("resources", args.resources));
  problems.push(
    ...validateProbes("probes", args.probes, {
      bootSeconds: args.bootSeconds,
      maxLivenessDetectionSeconds: args.maxLivenessDetectionSeconds,
    }),
  );
  for (const user of ["runAsUser", "runAsGroup", "fsGroup"] as const) {
    const v = args[user];
    if (v !== undefined && (!Number.isInteger(v) || v <= 0)) {
      problems.push(new ValidationError(user, `must be a positive integer (never root), got ${v}`));
    }
  }
  for (const [envName, value] of Object.entries(args.env ?? {})) {
    if (typeof value === "string") {
      const why = secretReason(envName, value);
      if (why) problems.push(new ValidationError(`env.${envName}`, `${why}: pass it through secretEnv`));
    }
  }
  for (const [i, v] of (args.persistentVolumes ?? []).entries()) {
    if (!v.storageClass?.trim()) {
      problems.push(new ValidationError(`persistentVolumes[${i}].storageClass`, "must name a storage class"));
    }
    try {
      parseMemory(v.size, `persistentVolumes[${i}].size`);
    } catch (e) {
      problems.push(e as ValidationError);
    }
  }
  if (
    kind === "Deployment" &&
    (args.persistentVolumes?.length ?? 0) > 0 &&
    (replicas > 1 || args.autoscaling)
  ) {
    problems.push(
      new ValidationError(
        "persistentVolumes",
        "a Deployment with ReadWriteOnce volumes runs one replica; use a StatefulSet",
      ),
    );
  }
  if (!(args.ports ?? []).some((p) => p.expose ?? true)) {
    problems.push(new ValidationError("ports", "the workload's Service needs at least one exposed port"));
  }
  const hpa = args.autoscaling;
  if (hpa) {
    // StatefulSets without data may scale: they exist for stable pod names (e.g. Synapse's readers).
    if (kind !== "Deployment" && (args.persistentVolumes?.length ?? 0) > 0) {
      problems.push(
        new ValidationError(
          "autoscaling",
          "only stateless workloads autoscale; this one has persistentVolumes",
        ),
      );
    }
    if (!(hpa.minReplicas >= 1 && hpa.maxReplicas >= hpa.minReplicas)) {
      problems.push(
        new ValidationError(
          "autoscaling",
          `need 1 ≤ minReplicas ≤ maxReplicas, got ${hpa.minReplicas}–${hpa.maxReplicas}`,
        ),
      );
    }
  }
  if (args.hostNetwork && !args.hostNetwork.reason?.trim()) {
    problems.push(new ValidationError("hostNetwork.reason", "host networking needs a documented reason"));
  }
  for (const [envName, fieldPath] of Object.entries(args.fieldEnv ?? {})) {
    if (
      !/^(metadata\.(name|namespace|uid)|spec\.(nodeName|serviceAccountName)|status\.(hostIP|podIP))$/.test(
        fieldPath,
      )
    ) {
      problems.push(
        new ValidationError(`fieldEnv.${envName}`, `"${fieldPath}" is not a supported downward API field`),
      );
    }
  }
  if (args.capabilities && !args.capabilities.reason?.trim()) {
    problems.push(new ValidationError("capabilities.reason", "added capabilities need a documented reason"));
  }
  const names = [
    ...(args.persistentVolumes ?? []),
    ...(args.scratchVolumes ?? []),
    ...(args.sharedVolumes ?? []),
    ...(args.configFiles ?? []),
    ...(args.secretFiles ?? []),
  ].map((v) => v.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i || n === "tmp");
  if (dup)
    problems.push(new ValidationError("volumes", `volume name "${dup}" is used twice (tmp is reserved)`));
  return problems;
}

/**
 * A Deployment or StatefulSet that cannot carry the audits' defects: sized, probed, non-root with a
 * read-only root filesystem, its own ServiceAccount without a token, a Service, a NetworkPolicy naming who
 * may connect, a PDB when replicated or critical and an HPA when it autoscales.
 */
export class Workload extends pulumi.ComponentResource {
  /** The Service name (in-namespace DNS name of the workload). */
  readonly serviceName: pulumi.Output<string>;
  /** The app label value, for NetworkPolicy peers. */
  readonly appName: string;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:Workload", name, {}, opts);
    throwIfInvalid(validateWorkloadArgs(name, args));

    const app = args.appName ?? name;
    this.appName = app;
    const kind = args.kind ?? "Deployment";
    const labels = appLabels(app, args.partOf);
    const selector = selectorLabels(app, args.partOf);
    const replicas = args.autoscaling ? args.autoscaling.minReplicas : (args.replicas ?? 1);
    // An autoscaled workload leaves spec.replicas to its HPA: a declared count would be re-applied on every
    // update of the workload (server-side apply, forced), scaling it back to minReplicas mid-rollout.
    const declared = args.autoscaling ? {} : { replicas };
    const uid = args.runAsUser ?? 65532;
    const gid = args.runAsGroup ?? uid;
    const ports = args.ports ?? [];
    const exposed = ports.filter((p) => p.expose ?? true);
    const meta = (suffix = "") => ({ name: `${app}${suffix}`, namespace: args.namespace, labels });
    const child = { parent: this };

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: meta(), automountServiceAccountToken: false },
      child,
    );

    const workloadAnnotations: Record<string, string> = {
      ...(args.critical ? { [keys.critical]: "true" } : {}),
      ...(args.autoscaling ? { [keys.scalable]: "true" } : {}),
      ...(args.bootSeconds ? { [keys.bootSeconds]: String(args.bootSeconds) } : {}),
      ...(args.capabilities ? { [exemptionKey("capabilities")]: args.capabilities.reason } : {}),
      ...(args.hostNetwork ? { [exemptionKey("host-namespaces")]: args.hostNetwork.reason } : {}),
      ...args.annotations,
    };

    const persistent = args.persistentVolumes ?? [];
    const claims =
      kind === "Deployment"
        ? persistent.map(
            (v) =>
              new k8s.core.v1.PersistentVolumeClaim(
                `${name}-${v.name}`,
                {
                  metadata: meta(`-${v.name}`),
                  spec: {
                    accessModes: ["ReadWriteOnce"],
                    storageClassName: v.storageClass,
                    resources: { requests: { storage: v.size } },
                  },
                },
                { ...child, retainOnDelete: true },
              ),
          )
        : [];

    // Rendered config files get a ConfigMap of their own; named ConfigMaps are mounted as they are.
    const configMapNames = (args.configFiles ?? []).map((v) =>
      "files" in v
        ? new k8s.core.v1.ConfigMap(
            `${name}-${v.name}`,
            { metadata: meta(`-${v.name}`), data: v.files },
            child,
          ).metadata.name
        : v.configMapName,
    );
    const scratch: ScratchVolume[] = [{ name: "tmp", mountPath: "/tmp" }, ...(args.scratchVolumes ?? [])];
    const volumes: k8s.types.input.core.v1.Volume[] = [
      ...scratch.map((v) => ({
        name: v.name,
        emptyDir: { sizeLimit: v.sizeLimit ?? "64Mi", ...(v.medium ? { medium: v.medium } : {}) },
      })),
      ...(args.configFiles ?? []).map((v, i) => ({ name: v.name, configMap: { name: configMapNames[i] } })),
      ...(args.secretFiles ?? []).map((v) => ({ name: v.name, secret: { secretName: v.secretName } })),
      ...(args.sharedVolumes ?? []).map((v) => ({
        name: v.name,
        persistentVolumeClaim: { claimName: v.claimName },
      })),
      ...claims.map((c, i) => ({
        name: persistent[i].name,
        persistentVolumeClaim: { claimName: c.metadata.name },
      })),
    ];
    const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = [
      ...scratch.map((v) => ({ name: v.name, mountPath: v.mountPath })),
      ...(args.configFiles ?? []).map((v) => ({
        name: v.name,
        mountPath: v.mountPath,
        readOnly: true,
        ...(v.subPath ? { subPath: v.subPath } : {}),
      })),
      ...(args.secretFiles ?? []).map((v) => ({ name: v.name, mountPath: v.mountPath, readOnly: true })),
      ...[...persistent, ...(args.sharedVolumes ?? [])].map((v) => ({
        name: v.name,
        mountPath: v.mountPath,
        readOnly: v.readOnly ?? false,
        ...(v.subPath ? { subPath: v.subPath } : {}),
      })),
    ];

    const env: k8s.types.input.core.v1.EnvVar[] = [
      ...Object.entries(args.env ?? {}).map(([n, value]) => ({ name: n, value })),
      ...Object.entries(args.secretEnv ?? {}).map(([n, ref]) => ({
        name: n,
        valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } },
      })),
      ...Object.entries(args.fieldEnv ?? {}).map(([n, fieldPath]) => ({
        name: n,
        valueFrom: { fieldRef: { fieldPath } },
      })),
    ];

    const gpus = args.gpus ?? 0;
    const resources = gpus > 0 ? { ...args.resources, extended: { "nvidia.com/gpu": gpus } } : args.resources;
    const container: k8s.types.input.core.v1.Container = {
      name: app,
      image: args.image,
      imagePullPolicy: "IfNotPresent",
      ...(args.command ? { command: args.command } : {}),
      ...(args.args ? { args: args.args } : {}),
      ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol ?? "TCP" })),
      env,
      resources: toK8sResources(resources),
      startupProbe: toK8sProbe(args.probes.startup),
      readinessProbe: toK8sProbe(args.probes.readiness),
      livenessProbe: toK8sProbe(args.probes.liveness),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: gid,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ["ALL"], ...(args.capabilities ? { add: args.capabilities.add } : {}) },
        seccompProfile: { type: "RuntimeDefault" },
      },
      volumeMounts,
    };

    const podSpec: k8s.types.input.core.v1.PodSpec = {
      serviceAccountName: serviceAccount.metadata.name,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: args.terminationGracePeriodSeconds ?? 30,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: gid,
        fsGroup: args.fsGroup ?? gid,
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [container],
      volumes,
      ...(args.hostNetwork ? { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" } : {}),
      ...(args.shareProcessNamespace ? { shareProcessNamespace: true } : {}),
      ...(args.oneReplicaPerNode
        ? {
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" },
                ],
              },
            },
          }
        : {}),
      ...(gpus > 0
        ? {
            nodeSelector: { "nvidia.com/gpu.present": "true" },
            tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
          }
        : {}),
    };
    const template = {
      metadata: { labels, annotations: { ...renderedConfigHash(args.configFiles), ...args.podAnnotations } },
      spec: podSpec,
    };

    const service = new k8s.core.v1.Service(
      `${name}-svc`,
      {
        metadata: meta(),
        spec: {
          ...(kind === "StatefulSet"
            ? { clusterIP: "None", publishNotReadyAddresses: args.publishNotReadyAddresses ?? false }
            : { type: "ClusterIP" }),
          selector,
          ports: exposed.map((p) => ({
            name: p.name,
            port: p.port,
            targetPort: p.name,
            protocol: p.protocol ?? "TCP",
          })),
        },
      },
      child,
    );
    this.serviceName = service.metadata.name;

    const workloadMeta = { ...meta(), annotations: workloadAnnotations };
    const workload =
      kind === "StatefulSet"
        ? new k8s.apps.v1.StatefulSet(
            `${name}`,
            {
              metadata: workloadMeta,
              spec: {
                serviceName: service.metadata.name,
                ...declared,
                selector: { matchLabels: selector },
                podManagementPolicy: "OrderedReady",
                persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                template,
                volumeClaimTemplates: persistent.map((v) => ({
                  metadata: { name: v.name, labels },
                  spec: {
                    accessModes: ["ReadWriteOnce"],
                    storageClassName: v.storageClass,
                    resources: { requests: { storage: v.size } },
                  },
                })),
              },
            },
            child,
          )
        : new k8s.apps.v1.Deployment(
            `${name}`,
            {
              metadata: workloadMeta,
              spec: {
                ...declared,
                selector: { matchLabels: selector },
                strategy: { type: persistent.length > 0 ? "Recreate" : (args.strategy ?? "RollingUpdate") },
                template,
              },
            },
            child,
          );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: meta(),
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress", "Egress"],
          ingress: (args.allowFrom ?? [])
            .map((peer) => ({
              from: [toPolicyPeer(peer)],
              ports: exposed
                .filter((p) => !peer.ports || peer.ports.includes(p.port))
                .map((p) => ({ port: p.port, protocol: p.protocol ?? "TCP" })),
            }))
            // An empty port list would mean "every port": a peer with no exposed port gets no rule.
            .filter((rule) => rule.ports.length > 0),
          egress: (args.egressTo ?? []).map((peer) => ({
            to: [toPolicyPeer(peer)],
            ...(peer.ports ? { ports: toPolicyPorts(peer.ports) } : {}),
          })),
        },
      },
      child,
    );

    if (replicas > 1 || args.critical || args.autoscaling) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        {
          metadata: meta(),
          spec: {
            selector: { matchLabels: selector },
            ...(replicas > 1 || args.autoscaling ? { maxUnavailable: 1 } : { minAvailable: 1 }),
            unhealthyPodEvictionPolicy: "AlwaysAllow",
          },
        },
        child,
      );
    }

    if (args.autoscaling) {
      const a = args.autoscaling;
      const metric = (resource: string, utilization: number) => ({
        type: "Resource",
        resource: { name: resource, target: { type: "Utilization", averageUtilization: utilization } },
      });
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${name}-hpa`,
        {
          metadata: meta(),
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind, name: workload.metadata.name },
            minReplicas: a.minReplicas,
            maxReplicas: a.maxReplicas,
            metrics: [
              metric("cpu", a.cpuUtilization ?? 70),
              ...(a.memoryUtilization ? [metric("memory", a.memoryUtilization)] : []),
            ],
          },
        },
        child,
      );
    }

    this.registerOutputs({ serviceName: this.serviceName });
  }
}

/**
 * A short hash over every rendered config file, as a pod annotation: a config change rolls the pods, an
 * unchanged config leaves them alone (the files are rendered deterministically).
 */
function renderedConfigHash(configFiles: ConfigFiles[] | undefined): Record<string, string> {
  const texts = (configFiles ?? []).flatMap((v) =>
    "files" in v
      ? Object.keys(v.files)
          .sort()
          .map((k) => v.files[k])
      : [],
  );
  if (texts.length === 0) return {};
  const hash = createHash("sha256");
  for (const t of texts) hash.update(t);
  return { [keys.configHash]: hash.digest("hex").slice(0, 16) };
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { annotations as keys, appLabels, exemptionKey, selectorLabels } from "./conventions";
import { ValidationError, throwIfInvalid } from "./errors";
import { NetworkPeer } from "./network";
import { Probes, validateProbes } from "./probes";
import { parseMemory } from "./quantity";
import { ResourceSpec, validateResources } from "./resources";
import { secretReason } from "./secret-detection";
import {
  ConfigFiles,
  PersistentVolume,
  ScratchVolume,
  SecretFiles,
  SecretKeyRef,
  SharedVolume,
  claimSizeIgnored,
} from "./volumes";
import { workloadAutoscaler, workloadDisruptionBudget, workloadNetworkPolicy } from "./workload-guards";
import { podTemplate } from "./workload-pod";

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
  /** A PodDisruptionBudget is created even with one replica: its one pod stays through drains. @default false */
  critical?: boolean;
  /**
   * A node maintenance window (the site's `maintenance`): a critical workload's single pod may then be
   * evicted, so drains proceed. @default false
   */
  maintenance?: boolean;
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
    const exposed = (args.ports ?? []).filter((p) => p.expose ?? true);
    const meta = (suffix = "") => ({ name: `${app}${suffix}`, namespace: args.namespace, labels });
    const child = { parent: this };

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: meta(), automountServiceAccountToken: false },
      child,
    );
    const claims =
      kind === "Deployment"
        ? (args.persistentVolumes ?? []).map((v) =>
            deploymentClaim(`${name}-${v.name}`, v, meta(`-${v.name}`), this),
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
    const template = podTemplate(app, args, labels, selector, {
      serviceAccountName: serviceAccount.metadata.name,
      configMapNames,
      claimNames: claims.map((c) => c.metadata.name),
    });

    const service = workloadService(`${name}-svc`, kind, args, meta(), selector, exposed, this);
    this.serviceName = service.metadata.name;
    const controller = workloadController(
      name,
      kind,
      args,
      { ...meta(), annotations: workloadAnnotations(args) },
      {
        selector,
        labels,
        template,
        serviceName: service.metadata.name,
        parent: this,
      },
    );
    workloadNetworkPolicy(name, args, meta(), selector, exposed, child);
    workloadDisruptionBudget(name, args, replicas, meta(), selector, child);
    workloadAutoscaler(name, args, { kind, name: controller.metadata.name }, meta(), child);

    this.registerOutputs({ serviceName: this.serviceName });
  }
}

type Meta = { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> };

/** The policy pack's hints (critical, scalable, boot time) and the exemptions the arguments declare. */
function workloadAnnotations(args: WorkloadArgs): Record<string, string> {
  return {
    ...(args.critical ? { [keys.critical]: "true" } : {}),
    ...(args.autoscaling ? { [keys.scalable]: "true" } : {}),
    ...(args.bootSeconds ? { [keys.bootSeconds]: String(args.bootSeconds) } : {}),
    ...(args.capabilities ? { [exemptionKey("capabilities")]: args.capabilities.reason } : {}),
    ...(args.hostNetwork ? { [exemptionKey("host-namespaces")]: args.hostNetwork.reason } : {}),
    ...args.annotations,
  };
}

function claimSpec(v: PersistentVolume) {
  return {
    accessModes: ["ReadWriteOnce"],
    storageClassName: v.storageClass,
    resources: { requests: { storage: v.size } },
  };
}

/** A Deployment's volume: a claim of its own, kept when the workload is deleted. */
function deploymentClaim(
  name: string,
  v: PersistentVolume,
  metadata: Meta,
  parent: pulumi.Resource,
): k8s.core.v1.PersistentVolumeClaim {
  return new k8s.core.v1.PersistentVolumeClaim(
    name,
    { metadata, spec: claimSpec(v) },
    { parent, retainOnDelete: true, ignoreChanges: claimSizeIgnored },
  );
}

/** ClusterIP for a Deployment, headless for a StatefulSet; the exposed ports by name. */
function workloadService(
  name: string,
  kind: "Deployment" | "StatefulSet",
  args: WorkloadArgs,
  metadata: Meta,
  selector: Record<string, string>,
  exposed: WorkloadPort[],
  parent: pulumi.Resource,
): k8s.core.v1.Service {
  return new k8s.core.v1.Service(
    name,
    {
      metadata,
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
    { parent },
  );
}

/** The Deployment or StatefulSet itself. */
function workloadController(
  name: string,
  kind: "Deployment" | "StatefulSet",
  args: WorkloadArgs,
  metadata: Meta & { annotations: Record<string, string> },
  p: {
    selector: Record<string, string>;
    labels: Record<string, string>;
    template: k8s.types.input.core.v1.PodTemplateSpec;
    serviceName: pulumi.Input<string>;
    parent: pulumi.Resource;
  },
): k8s.apps.v1.StatefulSet | k8s.apps.v1.Deployment {
  // An autoscaled workload leaves spec.replicas to its HPA: a declared count would be re-applied on every
  // update of the workload (server-side apply, forced), scaling it back to minReplicas mid-rollout.
  const declared = args.autoscaling ? {} : { replicas: args.replicas ?? 1 };
  const persistent = args.persistentVolumes ?? [];
  if (kind === "StatefulSet") {
    return new k8s.apps.v1.StatefulSet(
      name,
      {
        metadata,
        spec: {
          serviceName: p.serviceName,
          ...declared,
          selector: { matchLabels: p.selector },
          podManagementPolicy: "OrderedReady",
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          template: p.template,
          volumeClaimTemplates: persistent.map((v) => ({
            metadata: { name: v.name, labels: p.labels },
            spec: claimSpec(v),
          })),
        },
      },
      // Kubernetes refuses any change to a StatefulSet's claim templates, so a new size (e.g. a bigger
      // sizing profile) would replace the StatefulSet: volumes keep the size they were created with.
      { parent: p.parent, ignoreChanges: ["spec.volumeClaimTemplates"] },
    );
  }
  return new k8s.apps.v1.Deployment(
    name,
    {
      metadata,
      spec: {
        ...declared,
        selector: { matchLabels: p.selector },
        strategy: { type: persistent.length > 0 ? "Recreate" : (args.strategy ?? "RollingUpdate") },
        template: p.template,
      },
    },
    { parent: p.parent },
  );
}

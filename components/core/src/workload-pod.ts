import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { annotations as keys } from "./conventions";
import { toK8sProbe } from "./probes";
import { toK8sResources } from "./resources";
import { secretRotationAnnotation } from "./secret-rotation";
import { ConfigFiles, ScratchVolume } from "./volumes";
import type { WorkloadArgs } from "./workload";

/** What the pod references that its Workload created: the ServiceAccount, ConfigMaps and claims. */
export interface PodRefs {
  serviceAccountName: pulumi.Input<string>;
  /** One per `configFiles` entry, in order. */
  configMapNames: pulumi.Input<string>[];
  /** One per `persistentVolumes` entry of a Deployment, in order; none for a StatefulSet. */
  claimNames: pulumi.Input<string>[];
}

const defaultUid = 65532;

function volumes(args: WorkloadArgs, refs: PodRefs): k8s.types.input.core.v1.Volume[] {
  const scratch: ScratchVolume[] = [{ name: "tmp", mountPath: "/tmp" }, ...(args.scratchVolumes ?? [])];
  const persistent = args.persistentVolumes ?? [];
  return [
    ...scratch.map((v) => ({
      name: v.name,
      emptyDir: { sizeLimit: v.sizeLimit ?? "64Mi", ...(v.medium ? { medium: v.medium } : {}) },
    })),
    ...(args.configFiles ?? []).map((v, i) => ({
      name: v.name,
      configMap: { name: refs.configMapNames[i] },
    })),
    ...(args.secretFiles ?? []).map((v) => ({ name: v.name, secret: { secretName: v.secretName } })),
    ...(args.sharedVolumes ?? []).map((v) => ({
      name: v.name,
      persistentVolumeClaim: { claimName: v.claimName },
    })),
    ...refs.claimNames.map((claimName, i) => ({
      name: persistent[i].name,
      persistentVolumeClaim: { claimName },
    })),
  ];
}

function volumeMounts(args: WorkloadArgs): k8s.types.input.core.v1.VolumeMount[] {
  const scratch: ScratchVolume[] = [{ name: "tmp", mountPath: "/tmp" }, ...(args.scratchVolumes ?? [])];
  return [
    ...scratch.map((v) => ({ name: v.name, mountPath: v.mountPath })),
    ...(args.configFiles ?? []).map((v) => ({
      name: v.name,
      mountPath: v.mountPath,
      readOnly: true,
      ...(v.subPath ? { subPath: v.subPath } : {}),
    })),
    ...(args.secretFiles ?? []).map((v) => ({ name: v.name, mountPath: v.mountPath, readOnly: true })),
    ...[...(args.persistentVolumes ?? []), ...(args.sharedVolumes ?? [])].map((v) => ({
      name: v.name,
      mountPath: v.mountPath,
      readOnly: v.readOnly ?? false,
      ...(v.subPath ? { subPath: v.subPath } : {}),
    })),
  ];
}

function env(args: WorkloadArgs): k8s.types.input.core.v1.EnvVar[] {
  return [
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
}

/** The one container: sized, probed, non-root with a read-only root filesystem and no capabilities. */
function container(app: string, args: WorkloadArgs): k8s.types.input.core.v1.Container {
  const uid = args.runAsUser ?? defaultUid;
  const gpus = args.gpus ?? 0;
  const resources = gpus > 0 ? { ...args.resources, extended: { "nvidia.com/gpu": gpus } } : args.resources;
  return {
    name: app,
    image: args.image,
    imagePullPolicy: "IfNotPresent",
    ...(args.command ? { command: args.command } : {}),
    ...(args.args ? { args: args.args } : {}),
    ports: (args.ports ?? []).map((p) => ({
      name: p.name,
      containerPort: p.port,
      protocol: p.protocol ?? "TCP",
    })),
    env: env(args),
    resources: toK8sResources(resources),
    startupProbe: toK8sProbe(args.probes.startup),
    readinessProbe: toK8sProbe(args.probes.readiness),
    livenessProbe: toK8sProbe(args.probes.liveness),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: args.runAsGroup ?? uid,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"], ...(args.capabilities ? { add: args.capabilities.add } : {}) },
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: volumeMounts(args),
  };
}

/** Scheduling: one replica per node when asked, GPU nodes for GPU workloads. */
function placement(
  args: WorkloadArgs,
  selector: Record<string, string>,
): Partial<k8s.types.input.core.v1.PodSpec> {
  return {
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
    ...((args.gpus ?? 0) > 0
      ? {
          nodeSelector: { "nvidia.com/gpu.present": "true" },
          tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
        }
      : {}),
  };
}

/** The pod template of a Workload: pure, from its arguments and what it created. */
export function podTemplate(
  app: string,
  args: WorkloadArgs,
  labels: Record<string, string>,
  selector: Record<string, string>,
  refs: PodRefs,
): k8s.types.input.core.v1.PodTemplateSpec {
  const uid = args.runAsUser ?? defaultUid;
  const gid = args.runAsGroup ?? uid;
  const spec: k8s.types.input.core.v1.PodSpec = {
    serviceAccountName: refs.serviceAccountName,
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
    containers: [container(app, args)],
    volumes: volumes(args, refs),
    ...(args.hostNetwork ? { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" } : {}),
    ...(args.shareProcessNamespace ? { shareProcessNamespace: true } : {}),
    ...placement(args, selector),
  };
  const secretRefs = [...Object.values(args.secretEnv ?? {}), ...(args.secretFiles ?? [])];
  const annotations = {
    ...renderedConfigHash(args.configFiles),
    ...secretRotationAnnotation(secretRefs),
    ...args.podAnnotations,
  };
  return { metadata: { labels, annotations }, spec };
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

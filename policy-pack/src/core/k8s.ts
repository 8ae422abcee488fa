import { Outcome, perElement, readOr } from "./unknown";
import type { Violation } from "./rule";

/**
 * Plain Kubernetes object shapes, as read from YAML or from Pulumi resource inputs.
 * Every field is optional: rules must treat input as untrusted and read it with optional chaining.
 */

export type StringMap = Record<string, string>;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: StringMap;
  annotations?: StringMap;
}

export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  // Kind-specific payloads: read them through the typed accessors below.
  spec?: unknown;
  data?: unknown;
  binaryData?: unknown;
  stringData?: unknown;
  items?: unknown;
  roleRef?: unknown;
  subjects?: unknown;
  [key: string]: unknown;
}

export interface LabelSelectorRequirement {
  key?: string;
  operator?: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: StringMap;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface ResourceList {
  cpu?: string | number;
  memory?: string | number;
  [name: string]: string | number | undefined;
}

export interface ResourceRequirements {
  requests?: ResourceList;
  limits?: ResourceList;
}

export interface Probe {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
  timeoutSeconds?: number;
  [handler: string]: unknown;
}

export interface Capabilities {
  add?: string[];
  drop?: string[];
}

export interface SeccompProfile {
  type?: string;
  localhostProfile?: string;
}

export interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  capabilities?: Capabilities;
  seccompProfile?: SeccompProfile;
}

export interface PodSecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  fsGroup?: number;
  seccompProfile?: SeccompProfile;
}

export interface EnvVar {
  name?: string;
  value?: string;
  valueFrom?: unknown;
}

export interface VolumeMount {
  name?: string;
  mountPath?: string;
}

export interface ContainerPort {
  containerPort?: number;
  hostPort?: number;
  name?: string;
  protocol?: string;
}

export interface Container {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  resources?: ResourceRequirements;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: SecurityContext;
  volumeMounts?: VolumeMount[];
  ports?: ContainerPort[];
}

export interface Volume {
  name?: string;
  emptyDir?: { medium?: string; sizeLimit?: string };
  hostPath?: { path?: string };
  configMap?: { name?: string };
  persistentVolumeClaim?: { claimName?: string };
  [source: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  securityContext?: PodSecurityContext;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
}

export interface PodTemplate {
  metadata?: ObjectMeta;
  spec?: PodSpec;
}

/**
 * Cluster-scoped kinds by API group ("" is the core group): the built-in kinds plus those of widely used
 * add-ons (Gateway API, cert-manager, policy engines, CNIs...). "*" marks groups whose every kind is
 * cluster-scoped, so unknown kinds of those groups are too. Every other kind is namespaced, unless a
 * CustomResourceDefinition of the same stack declares it `scope: Cluster` (see `declaredScopes`).
 */
const CLUSTER_SCOPED: Record<string, ReadonlySet<string> | "*"> = {
  "": new Set(["Namespace", "Node", "PersistentVolume", "ComponentStatus"]),
  "rbac.authorization.k8s.io": new Set(["ClusterRole", "ClusterRoleBinding"]),
  "storage.k8s.io": new Set([
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "VolumeAttributesClass",
  ]),
  "networking.k8s.io": new Set(["IngressClass", "IPAddress", "ServiceCIDR"]),
  policy: new Set(["PodSecurityPolicy"]),
  extensions: new Set(["PodSecurityPolicy"]),
  "resource.k8s.io": new Set(["DeviceClass", "ResourceSlice"]),
  "metrics.k8s.io": new Set(["NodeMetrics"]),
  "scheduling.k8s.io": "*",
  "node.k8s.io": "*",
  "apiextensions.k8s.io": "*",
  "apiregistration.k8s.io": "*",
  "admissionregistration.k8s.io": "*",
  "certificates.k8s.io": "*",
  "flowcontrol.apiserver.k8s.io": "*",
  "gateway.networking.k8s.io": new Set(["GatewayClass"]),
  "policy.networking.k8s.io": new Set(["AdminNetworkPolicy", "BaselineAdminNetworkPolicy"]),
  "snapshot.storage.k8s.io": new Set(["VolumeSnapshotClass", "VolumeSnapshotContent"]),
  "cert-manager.io": new Set(["ClusterIssuer"]),
  "trust.cert-manager.io": new Set(["Bundle"]),
  "external-secrets.io": new Set(["ClusterSecretStore", "ClusterExternalSecret"]),
  "kyverno.io": new Set(["ClusterPolicy", "ClusterCleanupPolicy"]),
  "wgpolicyk8s.io": new Set(["ClusterPolicyReport"]),
  "templates.gatekeeper.sh": "*",
  "constraints.gatekeeper.sh": "*",
  "mutations.gatekeeper.sh": "*",
  "crd.projectcalico.org": new Set([
    "GlobalNetworkPolicy",
    "GlobalNetworkSet",
    "ClusterInformation",
    "FelixConfiguration",
    "BGPConfiguration",
    "BGPPeer",
    "IPPool",
    "IPAMBlock",
    "BlockAffinity",
    "IPAMConfig",
    "IPAMHandle",
    "KubeControllersConfiguration",
    "HostEndpoint",
    "IPReservation",
  ]),
  "projectcalico.org": new Set([
    "GlobalNetworkPolicy",
    "GlobalNetworkSet",
    "HostEndpoint",
    "IPPool",
    "BGPConfiguration",
    "BGPPeer",
    "FelixConfiguration",
    "ClusterInformation",
  ]),
  "cilium.io": new Set([
    "CiliumClusterwideNetworkPolicy",
    "CiliumNode",
    "CiliumIdentity",
    "CiliumExternalWorkload",
    "CiliumLoadBalancerIPPool",
    "CiliumClusterwideEnvoyConfig",
  ]),
  "karpenter.sh": new Set(["NodePool", "NodeClaim"]),
  "nfd.k8s-sigs.io": new Set(["NodeFeatureRule"]),
  "stunner.l7mp.io": new Set(["Dataplane"]),
};

/** `<group>/<Kind>` → scope, from the CustomResourceDefinitions of a stack. */
export type DeclaredScopes = ReadonlyMap<string, "Cluster" | "Namespaced">;

/** The API group of an apiVersion: "apps/v1" → "apps", "v1" → "" (core). */
export function apiGroupOf(apiVersion: string | undefined): string {
  const text = apiVersion ?? "";
  return text.includes("/") ? text.slice(0, text.lastIndexOf("/")) : "";
}

/** A group served by a CustomResourceDefinition: not the core group, not a dotless built-in (apps, batch...), not *.k8s.io. */
export function isCustomGroup(group: string): boolean {
  return group.includes(".") && !/(^|\.)k8s\.io$/.test(group);
}

/**
 * Whether objects of `kind` (in `apiVersion`) live outside namespaces. A CustomResourceDefinition of the stack
 * (`declared`) is authoritative; then the table above. Without an apiVersion, any group's kind counts.
 */
export function isClusterScoped(kind: string, apiVersion?: string, declared?: DeclaredScopes): boolean {
  const group = apiGroupOf(apiVersion);
  const fromCrd = declared?.get(`${group}/${kind}`);
  if (fromCrd !== undefined) {
    return fromCrd === "Cluster";
  }
  if (apiVersion === undefined) {
    return Object.values(CLUSTER_SCOPED).some((kinds) => kinds !== "*" && kinds.has(kind));
  }
  const kinds = CLUSTER_SCOPED[group];
  return kinds === "*" || (kinds !== undefined && kinds.has(kind));
}

/** The scopes declared by the CustomResourceDefinitions among `objects` (unreadable ones are skipped). */
export function declaredScopes(objects: readonly K8sObject[]): Map<string, "Cluster" | "Namespaced"> {
  const scopes = new Map<string, "Cluster" | "Namespaced">();
  for (const obj of objects) {
    if (readOr(() => kindOf(obj), "") !== "CustomResourceDefinition") {
      continue;
    }
    const entry = readOr(() => {
      const spec = specOf(obj);
      const names = isRecord(spec.names) ? spec.names : {};
      return { group: asString(spec.group), kind: asString(names.kind), scope: asString(spec.scope) };
    }, undefined);
    if (entry?.group && entry.kind && (entry.scope === "Cluster" || entry.scope === "Namespaced")) {
      scopes.set(`${entry.group}/${entry.kind}`, entry.scope);
    }
  }
  return scopes;
}

export const POD_WORKLOAD_KINDS = new Set([
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "Job",
  "CronJob",
]);

/** Workloads that run until stopped (as opposed to Jobs and CronJobs that run to completion). */
export const LONG_RUNNING_KINDS = new Set([
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
]);

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asArray<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Reads an integer that YAML may have written as a number or a numeric string. */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    return value;
  }
  if (typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) {
    return Number(value);
  }
  return undefined;
}

export function kindOf(obj: K8sObject): string {
  return asString(obj.kind) ?? "";
}

export function nameOf(obj: K8sObject): string {
  return asString(obj.metadata?.name) ?? "";
}

/** The namespace an object lives in ("" for cluster-scoped kinds, "default" when unset). */
export function namespaceOf(obj: K8sObject, declared?: DeclaredScopes): string {
  const kind = kindOf(obj);
  if (isClusterScoped(kind, asString(obj.apiVersion), declared)) {
    return kind === "Namespace" ? nameOf(obj) : "";
  }
  return asString(obj.metadata?.namespace) || "default";
}

export function annotationsOf(obj: K8sObject): StringMap {
  return isRecord(obj.metadata?.annotations) ? obj.metadata!.annotations! : {};
}

export function labelsOf(obj: K8sObject): StringMap {
  return isRecord(obj.metadata?.labels) ? obj.metadata!.labels! : {};
}

export function specOf(obj: K8sObject): Record<string, unknown> {
  return isRecord(obj.spec) ? obj.spec : {};
}

/** The pod template of a workload (the object itself for a Pod), or undefined for other kinds. */
export function podTemplateOf(obj: K8sObject): PodTemplate | undefined {
  const kind = kindOf(obj);
  if (!POD_WORKLOAD_KINDS.has(kind)) {
    return undefined;
  }
  if (kind === "Pod") {
    return { metadata: obj.metadata, spec: specOf(obj) as PodSpec };
  }
  const spec = specOf(obj);
  if (kind === "CronJob") {
    const jobSpec = (spec.jobTemplate as { spec?: { template?: PodTemplate } } | undefined)?.spec;
    return isRecord(jobSpec?.template) ? jobSpec!.template : undefined;
  }
  return isRecord(spec.template) ? (spec.template as PodTemplate) : undefined;
}

export function podSpecOf(obj: K8sObject): PodSpec | undefined {
  const spec = podTemplateOf(obj)?.spec;
  return isRecord(spec) ? spec : undefined;
}

export interface NamedContainer {
  container: Container;
  init: boolean;
}

/** Main and init containers of a pod spec, init containers first. */
export function allContainers(pod: PodSpec | undefined): NamedContainer[] {
  if (!pod) {
    return [];
  }
  const init = asArray<Container>(pod.initContainers)
    .filter(isRecord)
    .map((c) => ({ container: c, init: true }));
  const main = asArray<Container>(pod.containers)
    .filter(isRecord)
    .map((c) => ({ container: c, init: false }));
  return [...init, ...main];
}

export function mainContainers(pod: PodSpec | undefined): Container[] {
  return pod ? asArray<Container>(pod.containers).filter(isRecord) : [];
}

/**
 * Checks every container of a pod spec (init containers first) on its own: a value unknown at preview in one
 * container becomes one advisory about that value, and the other containers are still checked.
 */
export function perContainer<T extends Outcome>(
  pod: PodSpec | undefined,
  check: (container: Container, init: boolean) => T[],
): Array<T | Violation> {
  if (!pod) {
    return [];
  }
  return [
    ...perElement<unknown, T>(
      () => pod.initContainers,
      (c) => (isRecord(c) ? check(c as Container, true) : []),
    ),
    ...perElement<unknown, T>(
      () => pod.containers,
      (c) => (isRecord(c) ? check(c as Container, false) : []),
    ),
  ];
}

/** `perContainer` over the main containers only. */
export function perMainContainer<T extends Outcome>(
  pod: PodSpec | undefined,
  check: (container: Container) => T[],
): Array<T | Violation> {
  return pod
    ? perElement<unknown, T>(
        () => pod.containers,
        (c) => (isRecord(c) ? check(c as Container) : []),
      )
    : [];
}

/** "container 'x'" or "init container 'x'", the way messages name containers (a name unknown at preview is "?"). */
export function describeContainer(c: Container, init: boolean): string {
  return `${init ? "init container" : "container"} '${readOr(() => asString(c.name), undefined) ?? "?"}'`;
}

/** Declared replicas of a workload (1 when unset); undefined for DaemonSets, Jobs and CronJobs. */
export function declaredReplicas(obj: K8sObject): number | undefined {
  const kind = kindOf(obj);
  if (kind === "Pod") {
    return 1;
  }
  if (["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"].includes(kind)) {
    return asNumber(specOf(obj).replicas) ?? 1;
  }
  return undefined;
}

/** `kind namespace/name`, the way messages and reports name objects. */
export function describeObject(obj: K8sObject): string {
  const ns = namespaceOf(obj);
  const name = nameOf(obj);
  return `${kindOf(obj)} ${ns && kindOf(obj) !== "Namespace" ? `${ns}/` : ""}${name}`;
}

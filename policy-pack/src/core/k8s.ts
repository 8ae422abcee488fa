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

/** Kinds whose objects live in a namespace (everything not listed in CLUSTER_SCOPED_KINDS). */
const CLUSTER_SCOPED_KINDS = new Set([
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "PriorityClass", "ClusterIssuer", "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration", "APIService", "IngressClass", "RuntimeClass", "CSIDriver",
    "CSINode", "VolumeAttachment", "PodSecurityPolicy", "CertificateSigningRequest",
    "FlowSchema", "PriorityLevelConfiguration", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "ClusterPolicy", "GlobalNetworkPolicy",
]);

export const POD_WORKLOAD_KINDS = new Set([
    "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob",
]);

/** Workloads that run until stopped (as opposed to Jobs and CronJobs that run to completion). */
export const LONG_RUNNING_KINDS = new Set([
    "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController",
]);

export function isClusterScoped(kind: string): boolean {
    return CLUSTER_SCOPED_KINDS.has(kind);
}

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
export function namespaceOf(obj: K8sObject): string {
    const kind = kindOf(obj);
    if (isClusterScoped(kind)) {
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
    const init = asArray<Container>(pod.initContainers).filter(isRecord).map(c => ({ container: c, init: true }));
    const main = asArray<Container>(pod.containers).filter(isRecord).map(c => ({ container: c, init: false }));
    return [...init, ...main];
}

export function mainContainers(pod: PodSpec | undefined): Container[] {
    return pod ? asArray<Container>(pod.containers).filter(isRecord) : [];
}

/**
 * Checks every container of a pod spec (init containers first) on its own: a value unknown at preview in one
 * container becomes one advisory about that value, and the other containers are still checked.
 */
export function perContainer<T extends Outcome>(pod: PodSpec | undefined, check: (container: Container, init: boolean) => T[]): Array<T | Violation> {
    if (!pod) {
        return [];
    }
    return [
        ...perElement<unknown, T>(() => pod.initContainers, c => (isRecord(c) ? check(c as Container, true) : [])),
        ...perElement<unknown, T>(() => pod.containers, c => (isRecord(c) ? check(c as Container, false) : [])),
    ];
}

/** `perContainer` over the main containers only. */
export function perMainContainer<T extends Outcome>(pod: PodSpec | undefined, check: (container: Container) => T[]): Array<T | Violation> {
    return pod ? perElement<unknown, T>(() => pod.containers, c => (isRecord(c) ? check(c as Container) : [])) : [];
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

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { exemptionKey, namespaceLabels } from "./conventions";
import { ValidationError, throwIfInvalid } from "./errors";
import { dnsEgress } from "./network";
import { parseCpu, parseMemory } from "./quantity";
import { CpuMemory } from "./resources";

/** A namespace's declared budget, enforced by its ResourceQuota. */
export interface NamespaceBudget {
  requests: CpuMemory;
  limits: CpuMemory;
  /** @default 50 */
  pods?: number;
  /** Total storage all PVCs may request. @default "500Gi" */
  storage?: string;
}

/** A Pod Security level below `restricted` must say why (e.g. coturn's host networking). */
export interface PodSecurityException {
  level: "baseline" | "privileged";
  reason: string;
}

export interface NamespaceArgs {
  /** The Kubernetes namespace name. @default the component name */
  namespaceName?: string;
  /** Enforced Pod Security Standard. @default "restricted" */
  podSecurity?: "restricted" | PodSecurityException;
  /** The ResourceQuota (and LimitRange maximums) of the namespace. */
  budget: NamespaceBudget;
  /** Default container size for anything created without resources. @default 100m/128Mi requests, 500m/512Mi limits */
  containerDefaults?: { requests: CpuMemory; limits: CpuMemory };
  /** Marks the lawful-intercept replica namespace and the namespace it intercepts. @default undefined */
  lawfulInterceptOf?: string;
  /** Extra labels. @default {} */
  labels?: Record<string, string>;
}

const nameRe = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Pure validation of NamespaceArgs. */
export function validateNamespaceArgs(name: string, args: NamespaceArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  const ns = args.namespaceName ?? name;
  if (!nameRe.test(ns))
    problems.push(new ValidationError("namespaceName", `"${ns}" is not a DNS-1123 label`));
  const ps = args.podSecurity;
  if (ps !== undefined && ps !== "restricted") {
    if (!["baseline", "privileged"].includes(ps.level)) {
      problems.push(new ValidationError("podSecurity.level", "must be restricted, baseline or privileged"));
    }
    if (!ps.reason?.trim()) {
      problems.push(
        new ValidationError("podSecurity.reason", "a Pod Security exception needs a documented reason"),
      );
    }
  }
  try {
    parseCpu(args.budget.requests.cpu, "budget.requests.cpu");
    parseCpu(args.budget.limits.cpu, "budget.limits.cpu");
    parseMemory(args.budget.requests.memory, "budget.requests.memory");
    parseMemory(args.budget.limits.memory, "budget.limits.memory");
  } catch (e) {
    if (e instanceof ValidationError) problems.push(e);
    else throw e;
  }
  return problems;
}

/**
 * Clamps the LimitRange defaults to its max (the API server refuses a default above max, which a small
 * namespace budget would otherwise produce), keeping each default request within its default limit.
 */
export function containerDefaultsWithin(
  defaults: { requests: CpuMemory; limits: CpuMemory },
  max: CpuMemory,
): { requests: CpuMemory; limits: CpuMemory } {
  const cpu = (q: string, cap: string) => (parseCpu(q) > parseCpu(cap) ? cap : q);
  const memory = (q: string, cap: string) => (parseMemory(q) > parseMemory(cap) ? cap : q);
  const limits = {
    cpu: cpu(defaults.limits.cpu, max.cpu),
    memory: memory(defaults.limits.memory, max.memory),
  };
  return {
    limits,
    requests: {
      cpu: cpu(defaults.requests.cpu, limits.cpu),
      memory: memory(defaults.requests.memory, limits.memory),
    },
  };
}

/**
 * A namespace that is safe by default: Pod Security Standards enforced, a ResourceQuota and LimitRange from
 * a declared budget, a default-deny NetworkPolicy, and a second policy that allows DNS egress only.
 */
export class Namespace extends pulumi.ComponentResource {
  /** The namespace name, known once the Namespace exists. */
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: NamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:Namespace", name, {}, opts);
    throwIfInvalid(validateNamespaceArgs(name, args));

    const nsName = args.namespaceName ?? name;
    const ps = args.podSecurity ?? "restricted";
    const level = ps === "restricted" ? "restricted" : ps.level;
    const labels: Record<string, string> = {
      "pod-security.kubernetes.io/enforce": level,
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/audit": "restricted",
      "app.kubernetes.io/managed-by": "keel",
      ...(args.lawfulInterceptOf
        ? { [namespaceLabels.lawfulIntercept]: "true", [namespaceLabels.intercepts]: args.lawfulInterceptOf }
        : {}),
      ...args.labels,
    };
    const annotations: Record<string, string> =
      ps === "restricted" ? {} : { [exemptionKey("namespace-pod-security")]: ps.reason };

    const namespace = new k8s.core.v1.Namespace(
      name,
      { metadata: { name: nsName, labels, annotations } },
      { parent: this },
    );
    this.name = namespace.metadata.name;
    const metadata = (suffix: string) => ({ name: `${nsName}-${suffix}`, namespace: this.name });

    const budget = args.budget;
    new k8s.core.v1.ResourceQuota(
      `${name}-quota`,
      {
        metadata: metadata("quota"),
        spec: {
          hard: {
            "requests.cpu": budget.requests.cpu,
            "requests.memory": budget.requests.memory,
            "limits.cpu": budget.limits.cpu,
            "limits.memory": budget.limits.memory,
            "requests.storage": budget.storage ?? "500Gi",
            pods: String(budget.pods ?? 50),
          },
        },
      },
      { parent: this },
    );

    const defaults = containerDefaultsWithin(
      args.containerDefaults ?? {
        requests: { cpu: "100m", memory: "128Mi" },
        limits: { cpu: "500m", memory: "512Mi" },
      },
      budget.limits,
    );
    new k8s.core.v1.LimitRange(
      `${name}-limits`,
      {
        metadata: metadata("limits"),
        spec: {
          limits: [
            {
              type: "Container",
              default: { ...defaults.limits },
              defaultRequest: { ...defaults.requests },
              max: { cpu: budget.limits.cpu, memory: budget.limits.memory },
            },
          ],
        },
      },
      { parent: this },
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny`,
      {
        metadata: metadata("default-deny"),
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      },
      { parent: this },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-allow-dns`,
      {
        metadata: metadata("allow-dns"),
        spec: { podSelector: {}, policyTypes: ["Egress"], egress: [dnsEgress] },
      },
      { parent: this },
    );

    this.registerOutputs({ name: this.name });
  }
}

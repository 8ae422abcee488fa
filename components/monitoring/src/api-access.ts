import { NetworkPeer, ValidationError, appLabels, exemptionKey, throwIfInvalid } from "@keel/core";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * Where the Kubernetes API server (or the kubelets) can be reached. NetworkPolicies see the endpoint address
 * after the `kubernetes` Service is translated, so this is the control plane's address range, not a Service.
 */
export interface ClusterEndpoint {
  /** @default ["0.0.0.0/0"]: any address, but only on `ports`; narrow it to the control plane's range */
  cidrs?: string[];
  ports?: number[];
}

export const defaultApiServer = { cidrs: ["0.0.0.0/0"], ports: [443, 6443] };
export const defaultKubelet = { cidrs: ["0.0.0.0/0"], ports: [10250] };

const cidrRe = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function validateClusterEndpoint(field: string, e: ClusterEndpoint | undefined): ValidationError[] {
  const problems: ValidationError[] = [];
  for (const [i, cidr] of (e?.cidrs ?? []).entries()) {
    const m = cidrRe.exec(cidr);
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
      problems.push(new ValidationError(`${field}.cidrs[${i}]`, `"${cidr}" is not an IPv4 CIDR`));
    }
  }
  if (e?.cidrs && e.cidrs.length === 0)
    problems.push(new ValidationError(`${field}.cidrs`, "must not be empty"));
  for (const [i, port] of (e?.ports ?? []).entries()) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(
        new ValidationError(`${field}.ports[${i}]`, `must be a port from 1 to 65535, got ${port}`),
      );
    }
  }
  if (e?.ports && e.ports.length === 0)
    problems.push(new ValidationError(`${field}.ports`, "must not be empty"));
  return problems;
}

/**
 * Egress peers for the API server or the kubelets. Core's `NetworkPeer` already expresses an address range
 * with ports, which is all a NetworkPolicy can say about the control plane: no extra policy is needed.
 */
export function clusterEndpointPeers(
  e: ClusterEndpoint | undefined,
  defaults: Required<ClusterEndpoint>,
): NetworkPeer[] {
  const ports = e?.ports ?? defaults.ports;
  return (e?.cidrs ?? defaults.cidrs).map((cidr) => ({ cidr, ports }));
}

/** One RBAC rule of a reader: API groups, resources and read-only verbs. */
export interface ReadRule {
  apiGroups: string[];
  resources: string[];
  verbs: ("get" | "list" | "watch")[];
}

const readVerbs = new Set(["get", "list", "watch"]);

/** Pure validation: read-only verbs, no wildcards. */
export function validateReadRules(rules: ReadRule[], field = "rules"): ValidationError[] {
  const problems: ValidationError[] = [];
  rules.forEach((r, i) => {
    if (r.verbs.length === 0 || r.verbs.some((v) => !readVerbs.has(v))) {
      problems.push(new ValidationError(`${field}[${i}].verbs`, "only get, list and watch are allowed"));
    }
    if ([...r.apiGroups, ...r.resources].includes("*") || r.resources.length === 0) {
      problems.push(new ValidationError(`${field}[${i}]`, "must name its resources and API groups (no *)"));
    }
  });
  return problems;
}

export interface ClusterReaderArgs {
  /** Namespace of the ServiceAccount. */
  namespace: pulumi.Input<string>;
  /** The ServiceAccount's name (a core Workload names it after its app). */
  serviceAccount: string;
  /** Prefix of the cluster-scoped ClusterRole and binding names (they must not collide across stacks). */
  namePrefix: string;
  partOf: string;
  rules: ReadRule[];
}

/** A ClusterRole with read-only rules, bound to one ServiceAccount (never cluster-admin). */
export class ClusterReader extends pulumi.ComponentResource {
  readonly roleName: pulumi.Output<string>;

  constructor(name: string, args: ClusterReaderArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:monitoring:ClusterReader", name, {}, opts);
    throwIfInvalid(validateReadRules(args.rules));
    const metadata = {
      name: `${args.namePrefix}-${args.serviceAccount}`,
      labels: appLabels(args.serviceAccount, args.partOf),
    };
    const role = new k8s.rbac.v1.ClusterRole(
      `${name}-role`,
      { metadata, rules: args.rules },
      { parent: this },
    );
    this.roleName = role.metadata.name;
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-binding`,
      {
        metadata,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: args.serviceAccount, namespace: args.namespace }],
      },
      { parent: this },
    );
    this.registerOutputs({ roleName: this.roleName });
  }
}

const podOwners = new Set(["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"]);

interface PodOwnerProps {
  metadata: { annotations?: Record<string, string> } & Record<string, unknown>;
  spec: { template: { spec: Record<string, unknown> } & Record<string, unknown> } & Record<string, unknown>;
}

/**
 * A transformation for a core `Workload` whose pods call the Kubernetes API (service discovery, log tailing):
 * it mounts the ServiceAccount token (`automountServiceAccountToken: true` in the pod spec, which takes
 * precedence over the ServiceAccount's `false`) and records why as the policy exemption
 * `exempt.keel.dev/automount-service-account-token`. Core's Workload has no switch for it; everything else
 * about the workload stays as core renders it.
 */
export function apiTokenTransformation(reason: string): pulumi.ResourceTransformation {
  if (!reason.trim()) throw new ValidationError("reason", "an API token needs a documented reason");
  return ({ type, props, opts }) => {
    if (!podOwners.has(type)) return undefined;
    const p = props as unknown as PodOwnerProps;
    const transformed: PodOwnerProps = {
      ...p,
      metadata: {
        ...p.metadata,
        annotations: { ...p.metadata.annotations, [exemptionKey("automount-service-account-token")]: reason },
      },
      spec: {
        ...p.spec,
        template: {
          ...p.spec.template,
          spec: { ...p.spec.template.spec, automountServiceAccountToken: true },
        },
      },
    };
    return { props: transformed as unknown as pulumi.Inputs, opts };
  };
}

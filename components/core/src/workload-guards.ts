import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { toPolicyPeer, toPolicyPorts } from "./network";
import type { WorkloadArgs, WorkloadPort } from "./workload";

type Meta = { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> };

/** Ingress only from the named peers on exposed ports; egress only where declared. */
export function workloadNetworkPolicy(
  name: string,
  args: WorkloadArgs,
  meta: Meta,
  selector: Record<string, string>,
  exposed: WorkloadPort[],
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
  return new k8s.networking.v1.NetworkPolicy(
    `${name}-netpol`,
    {
      metadata: meta,
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
    opts,
  );
}

/**
 * A PDB when replicated, autoscaled or critical: one pod may go at a time, or the single one must stay —
 * except in a maintenance window, when the single one may go too (a drain would otherwise wait forever).
 */
export function workloadDisruptionBudget(
  name: string,
  args: WorkloadArgs,
  replicas: number,
  meta: Meta,
  selector: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): k8s.policy.v1.PodDisruptionBudget | undefined {
  if (!(replicas > 1 || args.critical || args.autoscaling)) return undefined;
  return new k8s.policy.v1.PodDisruptionBudget(
    `${name}-pdb`,
    {
      metadata: meta,
      spec: {
        selector: { matchLabels: selector },
        ...(replicas > 1 || args.autoscaling || args.maintenance
          ? { maxUnavailable: 1 }
          : { minAvailable: 1 }),
        unhealthyPodEvictionPolicy: "AlwaysAllow",
      },
    },
    opts,
  );
}

/** The HPA of an autoscaled workload, on CPU and optionally memory utilization. */
export function workloadAutoscaler(
  name: string,
  args: WorkloadArgs,
  target: { kind: string; name: pulumi.Input<string> },
  meta: Meta,
  opts: pulumi.CustomResourceOptions,
): k8s.autoscaling.v2.HorizontalPodAutoscaler | undefined {
  const a = args.autoscaling;
  if (!a) return undefined;
  const metric = (resource: string, utilization: number) => ({
    type: "Resource",
    resource: { name: resource, target: { type: "Utilization", averageUtilization: utilization } },
  });
  return new k8s.autoscaling.v2.HorizontalPodAutoscaler(
    `${name}-hpa`,
    {
      metadata: meta,
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: target.kind, name: target.name },
        minReplicas: a.minReplicas,
        maxReplicas: a.maxReplicas,
        metrics: [
          metric("cpu", a.cpuUtilization ?? 70),
          ...(a.memoryUtilization ? [metric("memory", a.memoryUtilization)] : []),
        ],
      },
    },
    opts,
  );
}

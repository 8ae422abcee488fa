import { footprints, total, WorkloadFootprint } from "../core/capacity";
import { formatBytes, formatCores, parseQuantity } from "../core/quantity";
import { PodResources } from "../core/workloads";
import { Violation, stackRule } from "../core/rule";
import type { StackIndex } from "../core/stack-index";

interface Settings {
  clusterCpu?: number | string;
  clusterMemory?: number | string;
  headroomPercent: number;
  limitOvercommit: number;
  daemonSetNodes: number;
}

/**
 * F17: the stack fits the cluster. Σ requests × max replicas ≤ capacity − headroom, and
 * Σ limits × max replicas ≤ capacity × overcommit. Off until clusterCpu or clusterMemory is configured.
 */
export const capacityFit = stackRule<Settings>({
  id: "capacity-fit",
  findings: ["F17"],
  description:
    "Total requests (at max replicas) fit the cluster minus headroom; total limits fit the cluster times the allowed overcommit (policy config clusterCpu, clusterMemory).",
  fix: "lower requests/limits/replicas, or add nodes",
  defaultLevel: "mandatory",
  config: {
    schema: {
      clusterCpu: {
        type: ["number", "string"],
        description:
          'Allocatable CPU of the cluster, in cores (e.g. 92 or "92"); with clusterMemory also unset, the rule is off.',
      },
      clusterMemory: {
        type: ["number", "string"],
        description:
          'Allocatable memory of the cluster, as a quantity (e.g. "368Gi") or bytes; with clusterCpu also unset, the rule is off.',
      },
      headroomPercent: {
        type: "number",
        minimum: 0,
        maximum: 100,
        description: "Share of capacity kept free of requests (default 10).",
      },
      limitOvercommit: {
        type: "number",
        minimum: 0,
        description: "Allowed Σ limits / capacity (default 1.0: no overcommit).",
      },
      daemonSetNodes: { type: "integer", minimum: 1, description: "Nodes a DaemonSet runs on (default 1)." },
    },
    defaults: { headroomPercent: 10, limitOvercommit: 1, daemonSetNodes: 1 },
  },
  check(stack, settings) {
    if (
      parseQuantity(settings.clusterCpu) === undefined &&
      parseQuantity(settings.clusterMemory) === undefined
    ) {
      return [];
    }
    // Values unknown at preview count as zero: a total that already exceeds the budget is a definite violation.
    const unknown: Violation[] = [];
    const items = footprints(stack, stack.workloads(), settings.daemonSetNodes, unknown);
    const violations: Violation[] = [];
    const resources: Array<{
      capacity: number | undefined;
      request: keyof PodResources;
      limit: keyof PodResources;
      label: string;
      fmt: (n: number) => string;
    }> = [
      {
        capacity: parseQuantity(settings.clusterCpu),
        request: "requestsCpu",
        limit: "limitsCpu",
        label: "CPU",
        fmt: (n) => `${formatCores(n)} cores`,
      },
      {
        capacity: parseQuantity(settings.clusterMemory),
        request: "requestsMemory",
        limit: "limitsMemory",
        label: "memory",
        fmt: formatBytes,
      },
    ];
    for (const { capacity, request, limit, label, fmt } of resources) {
      if (capacity === undefined) {
        continue;
      }
      const requested = total(items, request);
      const requestBudget = capacity * (1 - settings.headroomPercent / 100);
      if (requested > requestBudget) {
        violations.push({
          message: `${label} requests total ${fmt(requested)} at max replicas, above cluster capacity ${fmt(capacity)} minus ${settings.headroomPercent}% headroom = ${fmt(requestBudget)}: lower requests or replicas, or add nodes (largest: ${largest(stack, items, request, fmt)})`,
        });
      }
      const limited = total(items, limit);
      const limitBudget = capacity * settings.limitOvercommit;
      if (limited > limitBudget) {
        violations.push({
          message: `${label} limits total ${fmt(limited)} at max replicas, above cluster capacity ${fmt(capacity)} × overcommit ${settings.limitOvercommit} = ${fmt(limitBudget)}: lower limits or replicas, or add nodes (largest: ${largest(stack, items, limit, fmt)})`,
        });
      }
    }
    return [...violations, ...unknown];
  },
});

function largest(
  stack: StackIndex,
  items: WorkloadFootprint[],
  field: keyof PodResources,
  fmt: (n: number) => string,
): string {
  return [...items]
    .sort((a, b) => b[field] - a[field])
    .slice(0, 3)
    .map(
      (i) =>
        `${stack.kindOf(i.workload)} ${stack.namespaceOf(i.workload)}/${stack.nameOf(i.workload)} ${fmt(i[field])}`,
    )
    .join(", ");
}

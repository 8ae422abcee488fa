import { K8sObject, annotationsOf, asNumber, nameOf, specOf } from "../core/k8s";
import { checkEach, someKnown, unknownPart } from "../core/unknown";
import { selectorMatches } from "../core/selectors";
import { podLabelsOf } from "../core/workloads";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";
import { annotations } from "../contract/conventions";

export const CRITICAL_ANNOTATION = annotations.critical;
const REPLICATED_KINDS = new Set(["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"]);

/**
 * F10: voluntary disruptions (node drains, upgrades) never take down every replica of a service at once, and
 * never wait forever: a budget that lets no pod go is accepted only on a workload declared critical (whose
 * budget its owner relaxes in a maintenance window, docs/operations.md).
 */
export const pdbRequired = stackRule({
  id: "pdb-required",
  findings: ["F10"],
  description:
    'Every workload with more than one replica, or annotated keel.dev/critical: "true", is selected by a PodDisruptionBudget in its namespace; a budget that lets no pod be evicted selects only critical workloads.',
  fix: "PodDisruptionBudget selecting the pod labels (e.g. `maxUnavailable: 1`)",
  defaultLevel: "mandatory",
  config: NO_CONFIG,
  check(stack) {
    const violations: Violation[] = [];
    checkEach(stack.workloads(), violations, (workload) => {
      const kind = stack.kindOf(workload);
      const critical = annotationsOf(workload)[CRITICAL_ANNOTATION] === "true";
      const declared = asNumber(specOf(workload).replicas) ?? 1;
      const hpaMin = Math.max(
        0,
        ...stack.autoscalersOf(workload).map((h) => asNumber(specOf(h).minReplicas) ?? 1),
      );
      const replicas = Math.max(declared, hpaMin);
      const labels = podLabelsOf(workload);
      const namespace = stack.namespaceOf(workload);
      const budgets = stack.inNamespace(namespace, "PodDisruptionBudget");
      if (!critical) {
        for (const pdb of budgets.filter((b) => selectorMatches(specOf(b).selector, labels))) {
          if (evictable(pdb, replicas) === 0) {
            violations.push({
              subject: workload,
              message: `PodDisruptionBudget ${namespace}/${nameOf(pdb)} lets no pod of its ${replicas} replica(s) be evicted, so every node drain waits forever: use maxUnavailable: 1, or annotate the workload ${CRITICAL_ANNOTATION}: "true" and relax the budget in maintenance windows`,
            });
          }
        }
      }
      const replicated = REPLICATED_KINDS.has(kind) && replicas > 1;
      if (!critical && !replicated) {
        return;
      }
      const covered = someKnown(budgets, (pdb) => selectorMatches(specOf(pdb).selector, labels));
      if (covered !== true && covered !== false) {
        violations.push(unknownPart(covered, workload));
      } else if (!covered) {
        const why = critical ? `it is annotated ${CRITICAL_ANNOTATION}` : `it runs ${replicas} replicas`;
        violations.push({
          subject: workload,
          message: `add a PodDisruptionBudget in namespace ${namespace} whose selector matches the pod labels ${formatLabels(labels)} (${why}), e.g. maxUnavailable: 1`,
        });
      }
    });
    return violations;
  },
});

/**
 * Pods a budget lets a drain evict while all `replicas` are healthy (percentages round up, as Kubernetes
 * does); undefined when the budget sets neither field or a value is not a number or percentage.
 */
export function evictable(pdb: K8sObject, replicas: number): number | undefined {
  const s = specOf(pdb);
  const count = (v: unknown): number | undefined =>
    typeof v === "string" && /^\d+%$/.test(v) ? Math.ceil((parseInt(v, 10) / 100) * replicas) : asNumber(v);
  if (s.maxUnavailable !== undefined) {
    const n = count(s.maxUnavailable);
    return n === undefined ? undefined : Math.max(0, n);
  }
  if (s.minAvailable !== undefined) {
    const n = count(s.minAvailable);
    return n === undefined ? undefined : Math.max(0, replicas - n);
  }
  return undefined;
}

export function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? "{}" : `{${entries.map(([k, v]) => `${k}: ${v}`).join(", ")}}`;
}

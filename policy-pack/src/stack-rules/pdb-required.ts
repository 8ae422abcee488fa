import { annotationsOf, asNumber, specOf } from "../core/k8s";
import { checkEach, someKnown, unknownPart } from "../core/unknown";
import { selectorMatches } from "../core/selectors";
import { podLabelsOf } from "../core/workloads";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";
import { annotations } from "../contract/conventions";

export const CRITICAL_ANNOTATION = annotations.critical;
const REPLICATED_KINDS = new Set(["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"]);

/** F10: voluntary disruptions (node drains, upgrades) never take down every replica of a service at once. */
export const pdbRequired = stackRule({
  id: "pdb-required",
  findings: ["F10"],
  description:
    'Every workload with more than one replica, or annotated keel.dev/critical: "true", is selected by a PodDisruptionBudget in its namespace.',
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
      const replicated = REPLICATED_KINDS.has(kind) && replicas > 1;
      if (!critical && !replicated) {
        return;
      }
      const labels = podLabelsOf(workload);
      const namespace = stack.namespaceOf(workload);
      const covered = someKnown(stack.inNamespace(namespace, "PodDisruptionBudget"), (pdb) =>
        selectorMatches(specOf(pdb).selector, labels),
      );
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

export function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? "{}" : `{${entries.map(([k, v]) => `${k}: ${v}`).join(", ")}}`;
}

import { Direction, policyTypes } from "../core/network";
import { selectorMatches } from "../core/selectors";
import { specOf } from "../core/k8s";
import { podLabelsOf } from "../core/workloads";
import { checkEach, someKnown, unknownPart } from "../core/unknown";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";

/** F13: no pod falls outside every NetworkPolicy (it would accept and send anything). */
export const podNetworkPolicy = stackRule({
  id: "pod-network-policy",
  findings: ["F13"],
  description: "The pods of every workload are selected by some NetworkPolicy for Ingress and for Egress.",
  fix: "default-deny policy plus explicit allows",
  defaultLevel: "mandatory",
  config: NO_CONFIG,
  check(stack) {
    const violations: Violation[] = [];
    checkEach(stack.workloads(), violations, (workload) => {
      const labels = podLabelsOf(workload);
      const policies = stack.inNamespace(stack.namespaceOf(workload), "NetworkPolicy");
      const uncovered: Direction[] = [];
      for (const direction of ["Ingress", "Egress"] as Direction[]) {
        // A policy unknown at preview might be the one that selects the pods: then the answer is unknown.
        const covered = someKnown(
          policies,
          (np) => policyTypes(np).includes(direction) && selectorMatches(specOf(np).podSelector, labels),
        );
        if (covered === false) {
          uncovered.push(direction);
        } else if (covered !== true) {
          violations.push(unknownPart(covered, workload));
        }
      }
      if (uncovered.length > 0) {
        violations.push({
          subject: workload,
          message: `no NetworkPolicy in namespace ${stack.namespaceOf(workload)} selects these pods for ${uncovered.join(" or ")}: add a default-deny policy (podSelector: {}) and allow the needed traffic explicitly`,
        });
      }
    });
    return violations;
  },
});

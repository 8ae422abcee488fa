import { asString, isRecord, specOf } from "../core/k8s";
import { checkEach } from "../core/unknown";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";

/** Kinds an HPA can scale that a manifest set shows; a custom kind's scale subresource cannot be checked here. */
const SCALABLE_KINDS = ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"];

/** kube-score horizontalpodautoscaler-has-target, kube-linter dangling-horizontalpodautoscaler. */
export const hpaTargetExists = stackRule({
  id: "hpa-target-exists",
  findings: [],
  description:
    "Every HorizontalPodAutoscaler's scaleTargetRef names a Deployment, StatefulSet, ReplicaSet or ReplicationController of its namespace that the stack contains.",
  fix: "`scaleTargetRef` with the workload's kind and name",
  defaultLevel: "advisory",
  config: NO_CONFIG,
  check(stack) {
    const present = new Set(
      SCALABLE_KINDS.flatMap((kind) =>
        stack.ofKind(kind).map((w) => `${stack.namespaceOf(w)}/${kind}/${stack.nameOf(w)}`),
      ),
    );
    const violations: Violation[] = [];
    checkEach(stack.ofKind("HorizontalPodAutoscaler"), violations, (hpa) => {
      const ref = specOf(hpa).scaleTargetRef;
      const kind = isRecord(ref) ? asString(ref.kind) : undefined;
      const name = isRecord(ref) ? asString(ref.name) : undefined;
      const namespace = stack.namespaceOf(hpa);
      if (kind && !SCALABLE_KINDS.includes(kind)) {
        return;
      }
      if (!kind || !name) {
        violations.push({
          subject: hpa,
          message: `set spec.scaleTargetRef.kind and .name to the workload HorizontalPodAutoscaler ${stack.nameOf(hpa)} scales`,
        });
      } else if (!present.has(`${namespace}/${kind}/${name}`)) {
        violations.push({
          subject: hpa,
          message: `HorizontalPodAutoscaler ${stack.nameOf(hpa)} scales ${kind}/${name}, which is not in namespace ${namespace}: point scaleTargetRef at the workload's kind and name (audit the workload's file with it)`,
        });
      }
    });
    return violations;
  },
});

import { annotationsOf } from "../core/k8s";
import { checkEach, unknownPart } from "../core/unknown";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";
import { annotations } from "../contract/conventions";

export const SCALABLE_ANNOTATION = annotations.scalable;

/** F11: services that can scale out do so under load. */
export const hpaRequired = stackRule({
  id: "hpa-required",
  findings: ["F11"],
  description:
    'Every workload annotated keel.dev/scalable: "true" is the scaleTargetRef of a HorizontalPodAutoscaler.',
  fix: "HorizontalPodAutoscaler (`autoscaling/v2`) targeting the workload",
  defaultLevel: "mandatory",
  config: NO_CONFIG,
  check(stack) {
    const violations: Violation[] = [];
    checkEach(stack.workloads(), violations, (workload) => {
      if (annotationsOf(workload)[SCALABLE_ANNOTATION] !== "true") {
        return;
      }
      const hidden = stack.unknownAutoscalerIn(stack.namespaceOf(workload));
      if (stack.autoscalersOf(workload).length === 0 && hidden) {
        violations.push(unknownPart(hidden, workload));
      } else if (stack.autoscalersOf(workload).length === 0) {
        const kind = stack.kindOf(workload);
        violations.push({
          subject: workload,
          message: `add a HorizontalPodAutoscaler (autoscaling/v2) in namespace ${stack.namespaceOf(workload)} with scaleTargetRef ${kind}/${stack.nameOf(workload)}, minReplicas ≥ 2 and a CPU or memory target`,
        });
      }
    });
    return violations;
  },
});

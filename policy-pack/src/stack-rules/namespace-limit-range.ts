import { asArray, isRecord, specOf } from "../core/k8s";
import { namespaceSubject } from "../core/capacity";
import { checkEach } from "../core/unknown";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";

/** F12: containers that forget resources get sane defaults instead of running unbounded. */
export const namespaceLimitRange = stackRule({
  id: "namespace-limit-range",
  findings: ["F12"],
  description:
    "Every namespace with workloads has a LimitRange of type Container with default and defaultRequest for cpu and memory.",
  fix: "LimitRange type Container with `default` and `defaultRequest`",
  defaultLevel: "mandatory",
  config: NO_CONFIG,
  check(stack) {
    const violations: Violation[] = [];
    checkEach(
      stack.workloadNamespaces(),
      violations,
      (namespace) => {
        const ranges = stack.inNamespace(namespace, "LimitRange");
        if (ranges.length === 0) {
          violations.push({
            subject: namespaceSubject(stack, namespace),
            message: `add a LimitRange to namespace ${namespace} with a Container limit setting default and defaultRequest for cpu and memory`,
          });
          return;
        }
        const containerLimits = ranges
          .flatMap((r) => asArray<Record<string, unknown>>(specOf(r).limits))
          .filter((l) => isRecord(l) && l.type === "Container");
        const missing: string[] = [];
        for (const section of ["default", "defaultRequest"]) {
          for (const resource of ["cpu", "memory"]) {
            if (
              !containerLimits.some(
                (l) =>
                  isRecord(l[section]) && (l[section] as Record<string, unknown>)[resource] !== undefined,
              )
            ) {
              missing.push(`${section}.${resource}`);
            }
          }
        }
        if (missing.length > 0) {
          violations.push({
            subject: ranges[0],
            message: `set ${missing.join(", ")} in a limits entry of type Container of the LimitRange in namespace ${namespace}`,
          });
        }
      },
      (namespace) => namespaceSubject(stack, namespace),
    );
    return violations;
  },
});

import { namespaceSubject } from "../core/capacity";
import { deniesByDefault } from "../core/dns-egress";
import type { Direction } from "../core/network";
import { checkEach, someKnown, unknownPart } from "../core/unknown";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";

/** F13: traffic inside and out of a namespace is denied unless a policy allows it. */
export const namespaceDefaultDeny = stackRule({
  id: "namespace-default-deny",
  findings: ["F13"],
  description:
    "Every namespace (with workloads, or declared) has a default-deny NetworkPolicy: podSelector {} and policyTypes [Ingress, Egress] with no rules " +
    "(egress rules that only allow DNS, port 53, keep egress closed).",
  fix: "NetworkPolicy `podSelector: {}`, `policyTypes: [Ingress, Egress]`, no rules",
  defaultLevel: "mandatory",
  config: NO_CONFIG,
  check(stack) {
    const namespaces = new Set([
      ...stack.workloadNamespaces(),
      ...stack.ofKind("Namespace").map((ns) => stack.nameOf(ns)),
    ]);
    const violations: Violation[] = [];
    checkEach(
      [...namespaces].filter((n) => n !== "").sort(),
      violations,
      (namespace) => {
        const policies = stack.inNamespace(namespace, "NetworkPolicy");
        const missing: Direction[] = [];
        for (const direction of ["Ingress", "Egress"] as Direction[]) {
          const denied = someKnown(policies, (np) => deniesByDefault(np, direction));
          if (denied === false) {
            missing.push(direction);
          } else if (denied !== true) {
            violations.push(unknownPart(denied, namespaceSubject(stack, namespace)));
          }
        }
        if (missing.length > 0) {
          violations.push({
            subject: namespaceSubject(stack, namespace),
            message: `add a default-deny NetworkPolicy to namespace ${namespace} (podSelector: {}, policyTypes: [Ingress, Egress], no rules): ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} open`,
          });
        }
      },
      (namespace) => namespaceSubject(stack, namespace),
    );
    return violations;
  },
});

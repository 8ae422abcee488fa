import { namespaceSubject } from "../core/capacity";
import { asArray, asNumber, asString, isRecord, specOf, K8sObject } from "../core/k8s";
import { Direction, isDefaultDeny, policyTypes, rulesOf } from "../core/network";
import { isEmptySelector } from "../core/selectors";
import { checkEach, someKnown, unknownPart } from "../core/unknown";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";

/** F13: traffic inside and out of a namespace is denied unless a policy allows it. */
export const namespaceDefaultDeny = stackRule({
    id: "namespace-default-deny",
    findings: ["F13"],
    description: "Every namespace (with workloads, or declared) has a default-deny NetworkPolicy: podSelector {} and policyTypes [Ingress, Egress] with no rules " +
        "(egress rules that only allow DNS, port 53, keep egress closed).",
    fix: "NetworkPolicy `podSelector: {}`, `policyTypes: [Ingress, Egress]`, no rules",
    defaultLevel: "mandatory",
    config: NO_CONFIG,
    check(stack) {
        const namespaces = new Set([...stack.workloadNamespaces(), ...stack.ofKind("Namespace").map(ns => stack.nameOf(ns))]);
        const violations: Violation[] = [];
        checkEach([...namespaces].filter(n => n !== "").sort(), violations, namespace => {
            const policies = stack.inNamespace(namespace, "NetworkPolicy");
            const missing: Direction[] = [];
            for (const direction of ["Ingress", "Egress"] as Direction[]) {
                const denied = someKnown(policies, np => isDefaultDeny(np, direction) || (direction === "Egress" && isDnsOnlyEgressDeny(np)));
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
        }, namespace => namespaceSubject(stack, namespace));
        return violations;
    },
});

/** A policy over every pod of the namespace whose egress rules all allow DNS only (to kube-dns or anywhere). */
function isDnsOnlyEgressDeny(np: K8sObject): boolean {
    const rules = rulesOf(np, "Egress");
    return isEmptySelector(specOf(np).podSelector) && policyTypes(np).includes("Egress") && rules.length > 0 && rules.every(isDnsOnlyRule);
}

/** Port 53 (or kube-dns's port names) over UDP or TCP, and nothing else; no ports at all means every port. */
function isDnsOnlyRule(rule: { ports?: unknown[] }): boolean {
    const ports = asArray<unknown>(rule.ports);
    return ports.length > 0 && ports.every(isDnsPort);
}

const DNS_PORT_NAMES = new Set(["dns", "dns-tcp"]);

function isDnsPort(port: unknown): boolean {
    if (!isRecord(port)) {
        return false;
    }
    const protocol = asString(port.protocol) ?? "TCP";
    const number = asNumber(port.port);
    const name = asString(port.port);
    const endPort = asNumber(port.endPort);
    const dns = number === 53 || (name !== undefined && DNS_PORT_NAMES.has(name));
    return dns && (protocol === "UDP" || protocol === "TCP") && (endPort === undefined || endPort === 53);
}

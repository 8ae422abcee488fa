import { K8sObject, labelsOf, asString } from "../core/k8s";
import { Direction, NetworkPeer, isDefaultDeny, isPublicCidr, peersOf, policyTypes, rulesOf } from "../core/network";
import { isEmptySelector, selectorMatches } from "../core/selectors";
import { checkEach } from "../core/unknown";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";
import type { StackIndex } from "../core/stack-index";

export const LI_LABEL = "keel.dev/lawful-intercept";
export const INTERCEPTS_LABEL = "keel.dev/intercepts";

/**
 * F13: the lawful-intercept namespace reaches nothing outside the cluster (DNS and in-cluster peers only)
 * and accepts nothing from the namespace it intercepts, nor from every namespace.
 */
export const liIsolation = stackRule({
    id: "li-isolation",
    findings: ["F13"],
    description: "Namespaces labelled keel.dev/lawful-intercept: \"true\" deny by default, have no internet egress (no empty `to`, no public ipBlock) and no ingress from the intercepted namespace (keel.dev/intercepts) or from all namespaces.",
    fix: "default deny; egress only to in-cluster peers and DNS; no ingress from the intercepted namespace",
    defaultLevel: "mandatory",
    config: NO_CONFIG,
    check(stack) {
        const violations: Violation[] = [];
        const liNamespaces = stack.ofKind("Namespace").filter(ns => labelsOf(ns)[LI_LABEL] === "true");
        checkEach(liNamespaces, violations, ns => checkNamespace(stack, ns, violations));
        return violations;
    },
});

function checkNamespace(stack: StackIndex, ns: K8sObject, violations: Violation[]): void {
    const name = stack.nameOf(ns);
    const intercepted = asString(labelsOf(ns)[INTERCEPTS_LABEL]);
    if (!intercepted) {
        violations.push({ subject: ns, message: `add label ${INTERCEPTS_LABEL}: <main namespace> to lawful-intercept namespace ${name}` });
    }
    const policies = stack.inNamespace(name, "NetworkPolicy");
    for (const direction of ["Ingress", "Egress"] as Direction[]) {
        if (!policies.some(np => isDefaultDeny(np, direction))) {
            violations.push({ subject: ns, message: `add a default-deny NetworkPolicy for ${direction} (podSelector: {}, no rules) to lawful-intercept namespace ${name}` });
        }
    }
    const interceptedLabels = intercepted ? stack.namespaceLabels(intercepted) : undefined;
    for (const np of policies) {
        const npName = stack.nameOf(np);
        const types = policyTypes(np);
        if (types.includes("Egress")) {
            rulesOf(np, "Egress").forEach((rule, i) => {
                const peers = peersOf(rule, "Egress");
                if (peers.length === 0) {
                    violations.push({ subject: np, message: `egress rule ${i} of NetworkPolicy ${npName} has no 'to' and allows any destination, the internet included: list in-cluster peers (namespaceSelector/podSelector) and DNS only` });
                }
                for (const cidr of publicCidrs(peers)) {
                    violations.push({ subject: np, message: `egress rule ${i} of NetworkPolicy ${npName} allows ipBlock ${cidr}, which reaches the internet: remove it (lawful-intercept data must not leave the cluster)` });
                }
            });
        }
        if (types.includes("Ingress")) {
            rulesOf(np, "Ingress").forEach((rule, i) => {
                const peers = peersOf(rule, "Ingress");
                if (peers.length === 0) {
                    violations.push({ subject: np, message: `ingress rule ${i} of NetworkPolicy ${npName} has no 'from' and admits every source, ${intercepted ? `namespace ${intercepted}` : "the intercepted namespace"} included: list the allowed peers` });
                    return;
                }
                for (const peer of peers) {
                    const reason = forbiddenIngress(peer, intercepted, interceptedLabels);
                    if (reason) {
                        violations.push({ subject: np, message: `ingress rule ${i} of NetworkPolicy ${npName} admits ${reason}: narrow its namespaceSelector to the lawful-intercept namespace's own peers` });
                    }
                }
                for (const cidr of publicCidrs(peers)) {
                    violations.push({ subject: np, message: `ingress rule ${i} of NetworkPolicy ${npName} admits ipBlock ${cidr} from the internet: remove it` });
                }
            });
        }
    }
}

function publicCidrs(peers: NetworkPeer[]): string[] {
    return peers.map(p => asString(p.ipBlock?.cidr)).filter((c): c is string => c !== undefined && isPublicCidr(c));
}

function forbiddenIngress(peer: NetworkPeer, intercepted: string | undefined, interceptedLabels: Record<string, string> | undefined): string | undefined {
    if (peer.namespaceSelector === undefined) {
        return undefined;
    }
    if (isEmptySelector(peer.namespaceSelector)) {
        return "pods of every namespace (namespaceSelector: {})";
    }
    if (intercepted && interceptedLabels && selectorMatches(peer.namespaceSelector, interceptedLabels)) {
        return `pods of the intercepted namespace ${intercepted}`;
    }
    return undefined;
}

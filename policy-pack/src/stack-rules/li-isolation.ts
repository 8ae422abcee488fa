import { K8sObject, labelsOf, asString, specOf } from "../core/k8s";
import { podLabelsOf } from "../core/workloads";
import { deniesByDefault } from "../core/dns-egress";
import { Direction, NetworkPeer, isPublicCidr, peersOf, policyTypes, rulesOf } from "../core/network";
import { isEmptySelector, selectorMatches } from "../core/selectors";
import { checkEach } from "../core/unknown";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";
import type { StackIndex } from "../core/stack-index";
import { keelKeyPrefix, namespaceLabels } from "../contract/conventions";

export const LI_LABEL = namespaceLabels.lawfulIntercept;
export const INTERCEPTS_LABEL = namespaceLabels.intercepts;

/**
 * F13: the lawful-intercept namespace reaches nothing outside the cluster (DNS and in-cluster peers only)
 * and accepts nothing from the namespace it intercepts, nor from every namespace.
 */
export const liIsolation = stackRule({
  id: "li-isolation",
  findings: ["F13"],
  description:
    'Namespaces labelled keel.dev/lawful-intercept: "true" deny by default, have no internet egress (no empty `to`, no public ipBlock) and no ingress from the intercepted namespace (keel.dev/intercepts) or from all namespaces. ' +
    "Without keel's labels, lawful-intercept namespaces and workloads are recognised by name or label (the words lawful-intercept, or `li` as a whole word: " +
    "`matrix-li`, `synapse-li`, `component: li`; not `livekit` or `client`): such a namespace must carry keel's labels (then the checks above apply), " +
    "and such a workload must not share a namespace with other workloads and must be selected by a NetworkPolicy.",
  fix: "default deny; egress only to in-cluster peers and DNS; no ingress from the intercepted namespace",
  defaultLevel: "mandatory",
  config: NO_CONFIG,
  check(stack) {
    const violations: Violation[] = [];
    const liNamespaces = stack.ofKind("Namespace").filter((ns) => labelsOf(ns)[LI_LABEL] === "true");
    checkEach(liNamespaces, violations, (ns) => checkNamespace(stack, ns, violations));
    const unlabelled = stack
      .ofKind("Namespace")
      .filter(
        (ns) => labelsOf(ns)[LI_LABEL] !== "true" && looksLawfulIntercept(stack.nameOf(ns), labelsOf(ns)),
      );
    checkEach(unlabelled, violations, (ns) => {
      violations.push({
        subject: ns,
        message: `namespace ${stack.nameOf(ns)} looks like a lawful-intercept namespace (${describeEvidence(stack.nameOf(ns), labelsOf(ns))}): label it ${LI_LABEL}: "true" and ${INTERCEPTS_LABEL}: <main namespace> so its isolation is checked`,
      });
      checkNamespace(stack, ns, violations, false);
    });
    const liNames = new Set([...liNamespaces, ...unlabelled].map((ns) => stack.nameOf(ns)));
    checkEach(
      stack.workloads().filter((w) => !liNames.has(stack.namespaceOf(w))),
      violations,
      (w) => checkLooseWorkload(stack, w, violations),
    );
    return violations;
  },
});

/** `labelled`: false for a namespace recognised by name or label, already told to add both of keel's labels. */
function checkNamespace(stack: StackIndex, ns: K8sObject, violations: Violation[], labelled = true): void {
  const name = stack.nameOf(ns);
  const intercepted = asString(labelsOf(ns)[INTERCEPTS_LABEL]);
  if (!intercepted && labelled) {
    violations.push({
      subject: ns,
      message: `add label ${INTERCEPTS_LABEL}: <main namespace> to lawful-intercept namespace ${name}`,
    });
  }
  const policies = stack.inNamespace(name, "NetworkPolicy");
  for (const direction of ["Ingress", "Egress"] as Direction[]) {
    if (!policies.some((np) => deniesByDefault(np, direction))) {
      violations.push({
        subject: ns,
        message: `add a default-deny NetworkPolicy for ${direction} (podSelector: {}, no rules) to lawful-intercept namespace ${name}`,
      });
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
          violations.push({
            subject: np,
            message: `egress rule ${i} of NetworkPolicy ${npName} has no 'to' and allows any destination, the internet included: list in-cluster peers (namespaceSelector/podSelector) and DNS only`,
          });
        }
        for (const cidr of publicCidrs(peers)) {
          violations.push({
            subject: np,
            message: `egress rule ${i} of NetworkPolicy ${npName} allows ipBlock ${cidr}, which reaches the internet: remove it (lawful-intercept data must not leave the cluster)`,
          });
        }
      });
    }
    if (types.includes("Ingress")) {
      rulesOf(np, "Ingress").forEach((rule, i) => {
        const peers = peersOf(rule, "Ingress");
        if (peers.length === 0) {
          violations.push({
            subject: np,
            message: `ingress rule ${i} of NetworkPolicy ${npName} has no 'from' and admits every source, ${intercepted ? `namespace ${intercepted}` : "the intercepted namespace"} included: list the allowed peers`,
          });
          return;
        }
        for (const peer of peers) {
          const reason = forbiddenIngress(peer, intercepted, interceptedLabels);
          if (reason) {
            violations.push({
              subject: np,
              message: `ingress rule ${i} of NetworkPolicy ${npName} admits ${reason}: narrow its namespaceSelector to the lawful-intercept namespace's own peers`,
            });
          }
        }
        for (const cidr of publicCidrs(peers)) {
          violations.push({
            subject: np,
            message: `ingress rule ${i} of NetworkPolicy ${npName} admits ipBlock ${cidr} from the internet: remove it`,
          });
        }
      });
    }
  }
}

function publicCidrs(peers: NetworkPeer[]): string[] {
  return peers
    .map((p) => asString(p.ipBlock?.cidr))
    .filter((c): c is string => c !== undefined && isPublicCidr(c));
}

function forbiddenIngress(
  peer: NetworkPeer,
  intercepted: string | undefined,
  interceptedLabels: Record<string, string> | undefined,
): string | undefined {
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

const LAWFUL_INTERCEPT = /lawful[-_ ]?intercept/i;

/** "lawful-intercept" anywhere, or "li" as a whole word (`matrix-li`, `li_sync`), never inside a word (`livekit`). */
function saysLawfulIntercept(text: string): boolean {
  return (
    LAWFUL_INTERCEPT.test(text) || text.split(/[^A-Za-z0-9]+/).some((word) => word.toLowerCase() === "li")
  );
}

/** Keel's own labels (keel.dev/...) are handled above; other label keys and values are evidence. */
function liEvidence(name: string, labels: Record<string, string>): string[] {
  const evidence = saysLawfulIntercept(name) ? [`name '${name}'`] : [];
  for (const [key, value] of Object.entries(labels)) {
    if (
      !key.startsWith(keelKeyPrefix) &&
      typeof value === "string" &&
      (saysLawfulIntercept(value) || LAWFUL_INTERCEPT.test(key))
    ) {
      evidence.push(`label ${key}: ${value}`);
    }
  }
  return evidence;
}

export function looksLawfulIntercept(name: string, labels: Record<string, string>): boolean {
  return liEvidence(name, labels).length > 0;
}

function describeEvidence(name: string, labels: Record<string, string>): string {
  return liEvidence(name, labels).join(", ");
}

/** A lawful-intercept workload outside a lawful-intercept namespace: in the platform's namespace, or unisolated. */
function checkLooseWorkload(stack: StackIndex, workload: K8sObject, violations: Violation[]): void {
  const name = stack.nameOf(workload);
  const labels = { ...labelsOf(workload), ...podLabelsOf(workload) };
  if (!looksLawfulIntercept(name, labels)) {
    return;
  }
  const namespace = stack.namespaceOf(workload);
  const what = `${stack.kindOf(workload)} ${name} looks like a lawful-intercept workload (${describeEvidence(name, labels)})`;
  const platform = stack
    .workloadsIn(namespace)
    .filter((w) => !looksLawfulIntercept(stack.nameOf(w), { ...labelsOf(w), ...podLabelsOf(w) }));
  if (platform.length > 0) {
    const others = platform
      .slice(0, 3)
      .map((w) => stack.nameOf(w))
      .join(", ");
    violations.push({
      subject: workload,
      message: `${what} but shares namespace ${namespace} with the platform it intercepts (${others}${platform.length > 3 ? ", ..." : ""}): move it to its own namespace labelled ${LI_LABEL}: "true" and ${INTERCEPTS_LABEL}: ${namespace}`,
    });
  } else {
    violations.push({
      subject: workload,
      message: `${what} but namespace ${namespace} is not labelled ${LI_LABEL}: "true": label it (with ${INTERCEPTS_LABEL}: <main namespace>) so its isolation is checked`,
    });
  }
  const podLabels = podLabelsOf(workload);
  if (
    !stack
      .inNamespace(namespace, "NetworkPolicy")
      .some((np) => selectorMatches(specOf(np).podSelector, podLabels))
  ) {
    violations.push({
      subject: workload,
      message: `no NetworkPolicy in namespace ${namespace} selects the pods of lawful-intercept ${stack.kindOf(workload)} ${name}: isolate them (deny by default, no ingress from the intercepted platform, no internet egress)`,
    });
  }
}

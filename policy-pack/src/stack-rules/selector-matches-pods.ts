import { K8sObject, apiGroupOf, asString, isCustomGroup, isRecord, specOf } from "../core/k8s";
import { isEmptySelector, selectorMatches } from "../core/selectors";
import { serviceSelectorOf } from "../core/services";
import { checkEach, readOr } from "../core/unknown";
import { podLabelsOf } from "../core/workloads";
import { NO_CONFIG, Violation, stackRule } from "../core/rule";
import type { StackIndex } from "../core/stack-index";
import { formatLabels } from "./pdb-required";

/** The label selector of a PodDisruptionBudget, NetworkPolicy or Service; undefined when it has none to check. */
function selectorOf(obj: K8sObject, kind: string): unknown {
  const spec = specOf(obj);
  if (kind === "Service") {
    return asString(spec.type) === "ExternalName" ? undefined : serviceSelectorOf(obj);
  }
  const selector = kind === "NetworkPolicy" ? spec.podSelector : spec.selector;
  // An empty selector means every pod of the namespace (or, for a PDB in policy/v1, all of them): nothing to match.
  return isRecord(selector) && !isEmptySelector(selector) ? selector : undefined;
}

function shownLabels(selector: unknown): string {
  const labels =
    isRecord(selector) && isRecord(selector.matchLabels)
      ? (selector.matchLabels as Record<string, string>)
      : {};
  return Object.keys(labels).length > 0 ? formatLabels(labels) : "its matchExpressions";
}

/** Namespaced custom resources of a namespace: operators make pods from them that the stack does not show. */
function customResourcesIn(stack: StackIndex, namespace: string): K8sObject[] {
  return stack.objects.filter((o) => {
    const group = apiGroupOf(readOr(() => asString(o.apiVersion), undefined));
    return isCustomGroup(group) && stack.namespaceOf(o) === namespace && !stack.isClusterScoped(o);
  });
}

const GENERIC_WORDS = new Set([
  "io",
  "com",
  "org",
  "net",
  "dev",
  "app",
  "apps",
  "k8s",
  "kubernetes",
  "sh",
  "cloud",
  "operator",
  "v1",
  "v2",
]);

/** Every key and value of a selector, lower case, as one text. */
function selectorText(selector: unknown): string {
  if (!isRecord(selector)) {
    return "";
  }
  const labels = isRecord(selector.matchLabels) ? Object.entries(selector.matchLabels).flat() : [];
  const expressions = Array.isArray(selector.matchExpressions)
    ? selector.matchExpressions.flatMap((e) =>
        isRecord(e) ? [e.key, ...(Array.isArray(e.values) ? e.values : [])] : [],
      )
    : [];
  return [...labels, ...expressions].map(String).join(" ").toLowerCase();
}

/**
 * A custom resource plausibly makes the selected pods when the selector mentions its name or its API group
 * (`cnpg.io/cluster: chat-db` for a postgresql.cnpg.io Cluster, `stunnerd` for stunner.l7mp.io objects).
 */
function mayMakePods(stack: StackIndex, cr: K8sObject, selector: unknown): boolean {
  const text = selectorText(selector);
  const group = apiGroupOf(readOr(() => asString(cr.apiVersion), undefined));
  const name = stack.nameOf(cr).toLowerCase();
  const words = [name, ...name.split(/[^a-z0-9]+/), ...group.toLowerCase().split(".")].filter(
    (w) => w.length >= 3 && !GENERIC_WORDS.has(w),
  );
  return words.some((w) => text.includes(w));
}

/** Seed 003: a PodDisruptionBudget in another namespace than its pods protects nothing, silently. */
export const selectorMatchesPods = stackRule({
  id: "selector-matches-pods",
  findings: [],
  description:
    "The selector of every PodDisruptionBudget, NetworkPolicy (podSelector) and Service matches the pod template of some workload " +
    "(Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) in its namespace. Empty selectors, Services without a selector " +
    "and ExternalName Services are skipped. Mandatory when the namespace has workloads (or the pods are in another namespace); " +
    "advisory when a custom resource of the namespace whose name or API group the selector mentions may make the pods (operators make pods the manifests do not show), " +
    "or when the namespace has no workloads at all.",
  fix: "fix the selector's labels, or move the object into the namespace of the pods it is meant for",
  defaultLevel: "mandatory",
  config: NO_CONFIG,
  check(stack) {
    const violations: Violation[] = [];
    for (const kind of ["PodDisruptionBudget", "NetworkPolicy", "Service"]) {
      checkEach(stack.ofKind(kind), violations, (obj) => {
        const selector = selectorOf(obj, kind);
        if (selector === undefined) {
          return;
        }
        const namespace = stack.namespaceOf(obj);
        const local = stack.workloadsIn(namespace);
        if (local.some((w) => selectorMatches(selector, podLabelsOf(w)))) {
          return;
        }
        const what = `${kind} ${stack.nameOf(obj)} selects ${shownLabels(selector)}, which matches no pod in namespace ${namespace}`;
        const elsewhere = stack
          .workloads()
          .filter((w) => stack.namespaceOf(w) !== namespace && selectorMatches(selector, podLabelsOf(w)));
        if (elsewhere.length > 0) {
          const target = elsewhere[0]!;
          const where = stack.namespaceOf(target);
          violations.push({
            subject: obj,
            message: `${what} but ${stack.kindOf(target)} ${stack.nameOf(target)} in namespace ${where}: move the ${kind} to namespace ${where}`,
          });
          return;
        }
        const operated = customResourcesIn(stack, namespace).filter((cr) => mayMakePods(stack, cr, selector));
        if (operated.length > 0) {
          const example = operated[0]!;
          violations.push({
            subject: obj,
            advisoryOnly: true,
            message: `${what} (pods made by an operator from ${stack.kindOf(example)} ${stack.nameOf(example)} may match): check its labels against the operator's pods`,
          });
        } else if (local.length === 0) {
          violations.push({
            subject: obj,
            advisoryOnly: true,
            message: `${what}, which has no workloads in these manifests: check its labels, or audit it with the manifests of its pods`,
          });
        } else {
          violations.push({
            subject: obj,
            message: `${what}: change its selector to the pod labels of the workload it is meant for`,
          });
        }
      });
    }
    return violations;
  },
});

import { K8sObject, StringMap, annotationsOf } from "./k8s";
import { readOr } from "./unknown";
import { exemptionPrefix } from "../contract/conventions";

/** Exemption annotations: `exempt.keel.dev/<rule-id>: "<reason>"` on an object or on its Namespace. */
export const EXEMPTION_PREFIX = exemptionPrefix;

export interface Exemption {
  ruleId: string;
  reason: string;
  /** Where the annotation sits: "object" or "namespace <name>". */
  source: string;
}

/** Exemption annotations of one annotation map, keyed by rule id (reason as written, maybe empty). */
export function exemptionsIn(annotations: StringMap): Map<string, string> {
  const result = new Map<string, string>();
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith(EXEMPTION_PREFIX)) {
      result.set(key.slice(EXEMPTION_PREFIX.length), typeof value === "string" ? value : String(value ?? ""));
    }
  }
  return result;
}

/**
 * The exemption that switches `ruleId` off for `obj`: on the object itself, else on its namespace.
 * An exemption with an empty reason does not count (and `exemption-has-reason` reports it).
 */
export function findExemption(
  ruleId: string,
  obj: K8sObject | undefined,
  namespace: string,
  namespaceAnnotations: (name: string) => StringMap,
): Exemption | undefined {
  const own = obj ? readOr(() => exemptionsIn(annotationsOf(obj)).get(ruleId), undefined) : undefined;
  if (own !== undefined && own.trim() !== "") {
    return { ruleId, reason: own.trim(), source: "object" };
  }
  if (namespace) {
    const inherited = readOr(() => exemptionsIn(namespaceAnnotations(namespace)).get(ruleId), undefined);
    if (inherited !== undefined && inherited.trim() !== "") {
      return { ruleId, reason: inherited.trim(), source: `namespace ${namespace}` };
    }
  }
  return undefined;
}

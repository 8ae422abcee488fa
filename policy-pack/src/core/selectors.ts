import { isRecord, StringMap, LabelSelector, asArray, LabelSelectorRequirement } from "./k8s";

/** True when a selector has neither matchLabels nor matchExpressions: it selects everything. */
export function isEmptySelector(selector: unknown): boolean {
  if (!isRecord(selector)) {
    return false;
  }
  const s = selector as LabelSelector;
  return Object.keys(s.matchLabels ?? {}).length === 0 && asArray(s.matchExpressions).length === 0;
}

/**
 * Kubernetes label-selector semantics: an empty selector matches every label set, a missing (null)
 * selector matches nothing.
 */
export function selectorMatches(selector: unknown, labels: StringMap): boolean {
  if (!isRecord(selector)) {
    return false;
  }
  const s = selector as LabelSelector;
  for (const [key, value] of Object.entries(isRecord(s.matchLabels) ? s.matchLabels : {})) {
    if (labels[key] !== value) {
      return false;
    }
  }
  return asArray<LabelSelectorRequirement>(s.matchExpressions).every((req) =>
    requirementMatches(req, labels),
  );
}

function requirementMatches(req: LabelSelectorRequirement, labels: StringMap): boolean {
  const key = req.key ?? "";
  const values = asArray<string>(req.values);
  const has = Object.prototype.hasOwnProperty.call(labels, key);
  switch (req.operator) {
    case "In":
      return has && values.includes(labels[key]!);
    case "NotIn":
      return !has || !values.includes(labels[key]!);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    default:
      return false;
  }
}

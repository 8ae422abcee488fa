import { K8sObject, isRecord, specOf } from "./k8s";
import type { StackIndex } from "./stack-index";
import { selectorMatches } from "./selectors";
import { UnknownValueLike, isUnknownValueError, someKnown } from "./unknown";
import { podLabelsOf } from "./workloads";

/**
 * Whether a Service of the workload's namespace selects its pods: true, false, or the value unknown at preview
 * that decides it. A Service without a selector (or with an empty one) selects no pods: its endpoints are managed
 * by hand.
 */
export function selectedByService(stack: StackIndex, workload: K8sObject): boolean | UnknownValueLike {
  let labels: Record<string, string>;
  try {
    labels = podLabelsOf(workload);
  } catch (err) {
    if (isUnknownValueError(err)) {
      return err;
    }
    throw err;
  }
  return someKnown(stack.inNamespace(stack.namespaceOf(workload), "Service"), (service) => {
    const selector = serviceSelectorOf(service);
    return selector !== undefined && selectorMatches(selector, labels);
  });
}

/** A Service's `spec.selector` (a plain label map) as a label selector; undefined when it has none or an empty one. */
export function serviceSelectorOf(service: K8sObject): { matchLabels: Record<string, unknown> } | undefined {
  const selector = specOf(service).selector;
  return isRecord(selector) && Object.keys(selector).length > 0 ? { matchLabels: selector } : undefined;
}

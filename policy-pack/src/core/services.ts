import { K8sObject, isRecord, specOf } from "./k8s";
import type { StackIndex } from "./stack-index";
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
    return someKnown(stack.inNamespace(stack.namespaceOf(workload), "Service"), service => serviceSelects(specOf(service).selector, labels));
}

function serviceSelects(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
    if (!isRecord(selector)) {
        return false;
    }
    const entries = Object.entries(selector);
    return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

import { Container, K8sObject, PodSpec, StringMap, allContainers, isRecord, podTemplateOf } from "./k8s";
import { parseQuantity } from "./quantity";

export function podLabelsOf(workload: K8sObject): StringMap {
    const labels = podTemplateOf(workload)?.metadata?.labels;
    return isRecord(labels) ? (labels as StringMap) : {};
}

export interface PodResources {
    requestsCpu: number;
    requestsMemory: number;
    limitsCpu: number;
    limitsMemory: number;
}

/** Effective pod resources as the scheduler sees them: max(Σ main containers, largest init container). */
export function podResources(pod: PodSpec | undefined): PodResources {
    const main = zero();
    const init = zero();
    for (const { container, init: isInit } of allContainers(pod)) {
        const r = containerResources(container);
        if (isInit) {
            init.requestsCpu = Math.max(init.requestsCpu, r.requestsCpu);
            init.requestsMemory = Math.max(init.requestsMemory, r.requestsMemory);
            init.limitsCpu = Math.max(init.limitsCpu, r.limitsCpu);
            init.limitsMemory = Math.max(init.limitsMemory, r.limitsMemory);
        } else {
            main.requestsCpu += r.requestsCpu;
            main.requestsMemory += r.requestsMemory;
            main.limitsCpu += r.limitsCpu;
            main.limitsMemory += r.limitsMemory;
        }
    }
    return {
        requestsCpu: Math.max(main.requestsCpu, init.requestsCpu),
        requestsMemory: Math.max(main.requestsMemory, init.requestsMemory),
        limitsCpu: Math.max(main.limitsCpu, init.limitsCpu),
        limitsMemory: Math.max(main.limitsMemory, init.limitsMemory),
    };
}

/** Requests and limits of one container; a missing request defaults to the limit, as Kubernetes does. */
export function containerResources(container: Container): PodResources {
    const requests = isRecord(container.resources?.requests) ? container.resources!.requests! : {};
    const limits = isRecord(container.resources?.limits) ? container.resources!.limits! : {};
    const limitsCpu = parseQuantity(limits.cpu) ?? 0;
    const limitsMemory = parseQuantity(limits.memory) ?? 0;
    return {
        requestsCpu: parseQuantity(requests.cpu) ?? limitsCpu,
        requestsMemory: parseQuantity(requests.memory) ?? limitsMemory,
        limitsCpu,
        limitsMemory,
    };
}

/** The memory limit of a container in bytes, if set. */
export function memoryLimit(container: Container): number | undefined {
    const limits = container.resources?.limits;
    return isRecord(limits) ? parseQuantity(limits.memory) : undefined;
}

function zero(): PodResources {
    return { requestsCpu: 0, requestsMemory: 0, limitsCpu: 0, limitsMemory: 0 };
}

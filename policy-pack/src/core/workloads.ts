import { Container, K8sObject, PodSpec, StringMap, isRecord, perContainer, podTemplateOf } from "./k8s";
import type { Violation } from "./rule";
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

/**
 * Effective pod resources as the scheduler sees them: max(Σ main containers, largest init container).
 * A container whose resources are unknown at preview counts as zero (the result is a lower bound) and is
 * noted in `unknown`.
 */
export function podResources(pod: PodSpec | undefined, unknown: Violation[] = []): PodResources {
  const main = zero();
  const init = zero();
  const seen: Array<{ r: PodResources; isInit: boolean }> = [];
  for (const note of perContainer(pod, (container, isInit) => {
    seen.push({ r: containerResources(container), isInit });
    return [] as string[];
  })) {
    unknown.push(note as Violation);
  }
  for (const { r, isInit } of seen) {
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

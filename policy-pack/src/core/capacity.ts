import { K8sObject } from "./k8s";
import type { StackIndex } from "./stack-index";
import { about, isUnknownValueError, readOr, unknownPart } from "./unknown";
import type { Violation } from "./rule";
import { PodResources, podResources } from "./workloads";
import { podSpecOf } from "./k8s";

export interface WorkloadFootprint extends PodResources {
  workload: K8sObject;
  pods: number;
}

/**
 * Worst-case footprint of each long-running workload: pod resources × pods, where pods is the HPA's
 * maxReplicas (or spec.replicas), and `daemonSetNodes` for DaemonSets. Jobs and CronJobs count one pod.
 * Values unknown at preview count as zero, so the totals are lower bounds; each is noted in `unknown`
 * (about its workload).
 */
export function footprints(
  stack: StackIndex,
  workloads: readonly K8sObject[],
  daemonSetNodes: number,
  unknown: Violation[] = [],
): WorkloadFootprint[] {
  return workloads.map((workload) => {
    const kind = stack.kindOf(workload);
    const pods =
      kind === "DaemonSet" ? daemonSetNodes : (readOr(() => stack.maxReplicas(workload), undefined) ?? 1);
    const notes: Violation[] = [];
    let pod: PodResources;
    try {
      pod = podResources(podSpecOf(workload), notes);
    } catch (err) {
      if (!isUnknownValueError(err)) {
        throw err;
      }
      pod = podResources(undefined);
      notes.push(unknownPart(err));
    }
    unknown.push(...about(notes, workload));
    return {
      workload,
      pods,
      requestsCpu: pod.requestsCpu * pods,
      requestsMemory: pod.requestsMemory * pods,
      limitsCpu: pod.limitsCpu * pods,
      limitsMemory: pod.limitsMemory * pods,
    };
  });
}

export function total(items: readonly WorkloadFootprint[], field: keyof PodResources): number {
  return items.reduce((sum, item) => sum + item[field], 0);
}

/** The Namespace object, or a stand-in naming it when the stack does not declare it. */
export function namespaceSubject(stack: StackIndex, namespace: string): K8sObject {
  return (
    stack.namespaceObject(namespace) ?? { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }
  );
}

import { ValidationError } from "./errors";
import { formatCpu, formatMemory, parseCpu, parseMemory } from "./quantity";
import { ResourceSpec } from "./resources";
import { SizingProfile, sizingProfile, sizingProfileNames } from "./sizing";

/** What one workload asks of the cluster at its largest scale. */
export interface Demand {
  name: string;
  replicas: number;
  resources: ResourceSpec;
}

/** Cluster capacity as declared in stack config. */
export interface Capacity {
  nodes: { cpu: number; memoryGi: number; count: number }[];
  /** Share of capacity kept free for system pods, surges and node loss. */
  headroomPercent: number;
  /** How far Σ limits may exceed capacity. */
  limitOvercommit: number;
}

export interface DemandTotals {
  requestsCpu: number;
  requestsMemoryGi: number;
  limitsCpu: number;
  limitsMemoryGi: number;
}

const Gi = 1024 ** 3;

export function totalDemand(demands: Demand[]): DemandTotals {
  const t = { requestsCpu: 0, requestsMemoryGi: 0, limitsCpu: 0, limitsMemoryGi: 0 };
  for (const d of demands) {
    t.requestsCpu += parseCpu(d.resources.requests.cpu) * d.replicas;
    t.limitsCpu += parseCpu(d.resources.limits.cpu) * d.replicas;
    t.requestsMemoryGi += (parseMemory(d.resources.requests.memory) / Gi) * d.replicas;
    t.limitsMemoryGi += (parseMemory(d.resources.limits.memory) / Gi) * d.replicas;
  }
  return t;
}

/** Checks Σ requests ≤ capacity − headroom and Σ limits ≤ capacity × overcommit (F17). */
export function checkCapacity(capacity: Capacity, demands: Demand[]): ValidationError[] {
  const cpu = capacity.nodes.reduce((s, n) => s + n.cpu * n.count, 0);
  const mem = capacity.nodes.reduce((s, n) => s + n.memoryGi * n.count, 0);
  const usable = 1 - capacity.headroomPercent / 100;
  const t = totalDemand(demands);
  const problems: ValidationError[] = [];
  const fmt = (n: number) => n.toFixed(1);
  if (t.requestsCpu > cpu * usable) {
    problems.push(
      new ValidationError(
        "capacity",
        `requests need ${fmt(t.requestsCpu)} CPU but ${fmt(cpu * usable)} of ${cpu} is usable after ${capacity.headroomPercent}% headroom; add nodes or disable platforms`,
      ),
    );
  }
  if (t.requestsMemoryGi > mem * usable) {
    problems.push(
      new ValidationError(
        "capacity",
        `requests need ${fmt(t.requestsMemoryGi)}Gi memory but ${fmt(mem * usable)}Gi of ${mem}Gi is usable after ${capacity.headroomPercent}% headroom`,
      ),
    );
  }
  if (t.limitsCpu > cpu * capacity.limitOvercommit) {
    problems.push(
      new ValidationError(
        "capacity",
        `limits total ${fmt(t.limitsCpu)} CPU, over ${capacity.limitOvercommit}× the cluster's ${cpu} CPU`,
      ),
    );
  }
  if (t.limitsMemoryGi > mem * capacity.limitOvercommit) {
    problems.push(
      new ValidationError(
        "capacity",
        `limits total ${fmt(t.limitsMemoryGi)}Gi memory, over ${capacity.limitOvercommit}× the cluster's ${mem}Gi`,
      ),
    );
  }
  return problems;
}

/**
 * Pods a rolling update adds while it runs: Kubernetes' default `maxSurge`, a quarter of the replicas rounded
 * up, so at least one.
 */
function surgePods(replicas: number): number {
  return Math.ceil(replicas / 4);
}

/**
 * How much bigger than under `profile` a workload's old pods can be while it rolls onto `profile` from
 * another one (2 for small, coming from large): a smaller profile shrinks the quota in the same update,
 * and the old pods keep their size until the new ones are ready.
 */
export function resizeFactor(profile: SizingProfile): number {
  const largest = Math.max(...sizingProfileNames.map((n) => sizingProfile(n).resourceScale));
  return largest / profile.resourceScale;
}

/**
 * A namespace budget for workloads sized by `sizing`: every workload rolling at once (a secret rotation
 * or a new image version rolls them all together; the surge pods of a quota too tight to hold them are
 * refused and the rollout never ends), each with its surge pods (a quarter of its replicas, at least one)
 * next to old pods up to its replicas that may still have a bigger profile's size (`resizeFactor`); and
 * the storage it claims (without `storageGi` the Namespace default applies).
 */
export function namespaceBudget(demands: Demand[], sizing: SizingProfile, storageGi?: number) {
  const grown = resizeFactor(sizing);
  const t = totalDemand(demands.map((d) => ({ ...d, replicas: d.replicas * grown + surgePods(d.replicas) })));
  const pods = demands.reduce((n, d) => n + d.replicas, 0);
  // Rounded up: the budget must not fall short of the rollout by a rounding.
  const cpu = (cores: number) => formatCpu(Math.ceil(cores * 1000) / 1000);
  const memory = (gi: number) => formatMemory(Math.ceil(gi * 1024) * 1024 ** 2);
  return {
    requests: { cpu: cpu(t.requestsCpu), memory: memory(t.requestsMemoryGi) },
    limits: { cpu: cpu(t.limitsCpu), memory: memory(t.limitsMemoryGi) },
    pods: pods * 2 + 5,
    ...(storageGi === undefined ? {} : { storage: `${Math.max(10, Math.ceil(storageGi * 1.25))}Gi` }),
  };
}

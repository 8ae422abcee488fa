import { ValidationError } from "./errors";
import { formatCpu, formatMemory, parseCpu, parseMemory } from "./quantity";

/** CPU and memory as Kubernetes quantities. */
export interface CpuMemory {
  cpu: string;
  memory: string;
}

/** Requests and limits, both required: a container without them is an audit finding (F1). */
export interface ResourceSpec {
  requests: CpuMemory;
  limits: CpuMemory;
  /** Extended resources such as `nvidia.com/gpu`, set as both request and limit. */
  extended?: Record<string, number>;
}

/** Validates that requests ≤ limits and every quantity parses. */
export function validateResources(field: string, r: ResourceSpec | undefined): ValidationError[] {
  if (!r?.requests || !r?.limits) {
    return [new ValidationError(field, "requests and limits for cpu and memory are required")];
  }
  const problems: ValidationError[] = [];
  try {
    if (parseCpu(r.requests.cpu, `${field}.requests.cpu`) > parseCpu(r.limits.cpu, `${field}.limits.cpu`)) {
      problems.push(new ValidationError(`${field}.requests.cpu`, "must not exceed limits.cpu"));
    }
    const reqMem = parseMemory(r.requests.memory, `${field}.requests.memory`);
    if (reqMem > parseMemory(r.limits.memory, `${field}.limits.memory`)) {
      problems.push(new ValidationError(`${field}.requests.memory`, "must not exceed limits.memory"));
    }
  } catch (e) {
    if (e instanceof ValidationError) problems.push(e);
    else throw e;
  }
  return problems;
}

/** Multiplies every quantity by `factor` (sizing profiles scale a base size). */
export function scaleResources(r: ResourceSpec, factor: number): ResourceSpec {
  const scale = (q: CpuMemory): CpuMemory => ({
    cpu: formatCpu(parseCpu(q.cpu) * factor),
    memory: formatMemory(parseMemory(q.memory) * factor),
  });
  return { requests: scale(r.requests), limits: scale(r.limits), extended: r.extended };
}

/** Renders the Kubernetes `resources` block. */
export function toK8sResources(r: ResourceSpec): {
  requests: Record<string, string>;
  limits: Record<string, string>;
} {
  const extended = Object.fromEntries(Object.entries(r.extended ?? {}).map(([k, v]) => [k, String(v)]));
  return {
    requests: { cpu: r.requests.cpu, memory: r.requests.memory, ...extended },
    limits: { cpu: r.limits.cpu, memory: r.limits.memory, ...extended },
  };
}

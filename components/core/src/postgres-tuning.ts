import { ValidationError } from "./errors";

/** PostgreSQL memory settings derived from the container's memory limit. */
export interface PostgresTuning {
  maxConnections: number;
  sharedBuffersMb: number;
  effectiveCacheSizeMb: number;
  maintenanceWorkMemMb: number;
  workMemKb: number;
}

const MiB = 1024 ** 2;

/**
 * Derives settings that fit the limit (F14): shared_buffers = 25 %, effective_cache_size = 60 % (≤ 75 %),
 * and work_mem small enough that shared_buffers + maintenance_work_mem + work_mem × max_connections stays
 * within 85 % of the limit.
 */
export function postgresTuning(memoryLimitBytes: number, maxConnections: number): PostgresTuning {
  const limitMb = Math.floor(memoryLimitBytes / MiB);
  const sharedBuffersMb = Math.floor(limitMb * 0.25);
  const effectiveCacheSizeMb = Math.floor(limitMb * 0.6);
  const maintenanceWorkMemMb = Math.min(1024, Math.max(16, Math.floor(limitMb / 16)));
  const perConnectionKb = Math.floor(
    ((limitMb * 0.85 - sharedBuffersMb - maintenanceWorkMemMb) * 1024) / maxConnections,
  );
  if (perConnectionKb < 256) {
    throw new ValidationError(
      "resources.limits.memory",
      `${limitMb}Mi cannot give ${maxConnections} connections a work_mem of at least 256kB; raise the memory limit or lower maxConnections`,
    );
  }
  return {
    maxConnections,
    sharedBuffersMb,
    effectiveCacheSizeMb,
    maintenanceWorkMemMb,
    workMemKb: Math.min(perConnectionKb, 64 * 1024),
  };
}

/** The tuning as `postgres -c key=value` arguments. */
export function postgresArgs(t: PostgresTuning): string[] {
  const settings: Record<string, string> = {
    max_connections: String(t.maxConnections),
    shared_buffers: `${t.sharedBuffersMb}MB`,
    effective_cache_size: `${t.effectiveCacheSizeMb}MB`,
    maintenance_work_mem: `${t.maintenanceWorkMemMb}MB`,
    work_mem: `${t.workMemKb}kB`,
    password_encryption: "scram-sha-256",
  };
  return Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
}

/** A client of a database: how many connections each replica pools, at most how many replicas. */
export interface ConnectionConsumer {
  name: string;
  poolSize: number;
  maxReplicas: number;
}

/** Checks Σ(pool × replicas) ≤ max_connections − reserve (F16); returns the problem, if any. */
export function checkConnectionBudget(
  database: string,
  maxConnections: number,
  reserved: number,
  consumers: ConnectionConsumer[],
): ValidationError[] {
  const used = consumers.reduce((sum, c) => sum + c.poolSize * c.maxReplicas, 0);
  const available = maxConnections - reserved;
  if (used <= available) return [];
  const terms = consumers.map((c) => `${c.name} ${c.poolSize}×${c.maxReplicas}`).join(" + ");
  return [
    new ValidationError(
      `${database}.consumers`,
      `connection pools need ${used} (${terms}) but max_connections ${maxConnections} − reserve ${reserved} = ${available}; raise maxConnections or lower pool sizes`,
    ),
  ];
}

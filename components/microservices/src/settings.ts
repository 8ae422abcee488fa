import { ValidationError } from "@keel/core";

/** Application settings of the microservices, passed as environment. */
export interface MicroservicesAppSettings {
  /** ai-service's shared HTTP client pool towards model providers. @default 100 */
  aiServiceHttpPoolSize?: number;
  /** Redis pool of each replica of every service. @default 10 */
  redisPoolSize?: number;
  /** Idle AI sessions expire after this many minutes. @default 60 */
  sessionTtlMinutes?: number;
  /** Entries kept per Redis stream (XADD MAXLEN ~): streams never grow without bound. @default 100000 */
  streamMaxLength?: number;
  /** Days audit events are kept in ClickHouse (table TTL). @default 90 */
  auditRetentionDays?: number;
  /** Events the audit sink writes per ClickHouse insert. @default 500 */
  auditBatchSize?: number;
  /** Memory-backed /dev/shm of each browser pod in Gi (Chromium needs more than Docker's 64 MiB). @default 1 */
  browserShmGi?: number;
}

export type ResolvedMicroservicesSettings = Required<MicroservicesAppSettings>;

export const appSettingDefaults: ResolvedMicroservicesSettings = {
  aiServiceHttpPoolSize: 100,
  redisPoolSize: 10,
  sessionTtlMinutes: 60,
  streamMaxLength: 100000,
  auditRetentionDays: 90,
  auditBatchSize: 500,
  browserShmGi: 1,
};

const ranges: Record<keyof MicroservicesAppSettings, [number, number]> = {
  aiServiceHttpPoolSize: [1, 1000],
  redisPoolSize: [1, 200],
  sessionTtlMinutes: [1, 10080],
  streamMaxLength: [1000, 100_000_000],
  auditRetentionDays: [1, 3650],
  auditBatchSize: [1, 100000],
  browserShmGi: [1, 8],
};

/** Fills defaults and validates; errors name `<field>.<key>`. */
export function resolveMicroservicesSettings(
  s: MicroservicesAppSettings | undefined,
  field = "app",
): ResolvedMicroservicesSettings {
  const merged = { ...appSettingDefaults, ...s };
  for (const [key, [min, max]] of Object.entries(ranges)) {
    const v = merged[key as keyof typeof ranges];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new ValidationError(`${field}.${key}`, `must be an integer from ${min} to ${max}, got ${v}`);
    }
  }
  return merged;
}

import { ObjectStoreBackend, objectStoreBackends, ValidationError } from "@keel/core";

/**
 * Application settings of the OSINT services. Pools and batch sizes are bounded here and passed to the
 * services as environment, so the connection budgets can be checked before anything is created.
 */
export interface OsintAppSettings {
  /** Concurrent HTTP requests of each collector replica (politeness towards scraped sites). @default 8 */
  collectorConcurrentRequests?: number;
  /** Seconds between two requests of a collector to the same site. @default 1 */
  collectorDownloadDelaySeconds?: number;
  /** Documents the enricher processes per batch. @default 10 */
  enricherBatchSize?: number;
  /** PostgreSQL pool of each replica of the orchestrator, collector and enricher. @default 5 */
  dbPoolSize?: number;
  /** Neo4j driver pool of each replica of the orchestrator and enricher. @default 20 */
  neo4jPoolSize?: number;
  /** Redis pool of each replica. @default 10 */
  redisPoolSize?: number;
  /** RabbitMQ prefetch (unacknowledged messages) per consumer. @default 10 */
  rabbitmqPrefetch?: number;
  /** The S3-compatible server behind the object store. @default "rustfs" */
  objectStore?: ObjectStoreBackend;
  /** The OpenCTI platform the connector pushes to. @default "https://opencti.<domain>" */
  openctiUrl?: string;
}

export const appSettingDefaults = {
  collectorConcurrentRequests: 8,
  collectorDownloadDelaySeconds: 1,
  enricherBatchSize: 10,
  dbPoolSize: 5,
  neo4jPoolSize: 20,
  redisPoolSize: 10,
  rabbitmqPrefetch: 10,
  objectStore: "rustfs" as ObjectStoreBackend,
  openctiUrl: "",
};

export type ResolvedOsintSettings = typeof appSettingDefaults;

const ranges: Record<string, [number, number]> = {
  collectorConcurrentRequests: [1, 64],
  collectorDownloadDelaySeconds: [0, 60],
  enricherBatchSize: [1, 1000],
  dbPoolSize: [1, 50],
  neo4jPoolSize: [1, 200],
  redisPoolSize: [1, 200],
  rabbitmqPrefetch: [1, 1000],
};

/** Fills defaults and validates ranges; errors name `<field>.<key>`. */
export function resolveOsintSettings(s: OsintAppSettings | undefined, field = "app"): ResolvedOsintSettings {
  const merged = { ...appSettingDefaults, ...s };
  for (const [key, [min, max]] of Object.entries(ranges)) {
    const v = merged[key as keyof typeof merged];
    const integer = key !== "collectorDownloadDelaySeconds";
    if (
      typeof v !== "number" ||
      !(integer ? Number.isInteger(v) : Number.isFinite(v)) ||
      v < min ||
      v > max
    ) {
      throw new ValidationError(
        `${field}.${key}`,
        `must be ${integer ? "an integer" : "a number"} from ${min} to ${max}, got ${v}`,
      );
    }
  }
  if (!objectStoreBackends.includes(merged.objectStore)) {
    throw new ValidationError(
      `${field}.objectStore`,
      `must be one of ${objectStoreBackends.join(", ")}, got ${JSON.stringify(merged.objectStore)}`,
    );
  }
  if (merged.openctiUrl !== "" && !/^https?:\/\/[a-z0-9.-]+(:\d+)?(\/\S*)?$/.test(merged.openctiUrl)) {
    throw new ValidationError(`${field}.openctiUrl`, `must be an http(s) URL, got "${merged.openctiUrl}"`);
  }
  return merged;
}

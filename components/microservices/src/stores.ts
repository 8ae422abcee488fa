import { GeneratedSecret, Redis } from "@keel/core";
import { ClickHouse } from "./clickhouse";
import { MicroservicesScope, partOf } from "./scope";

/** The platform's state and keys, which the services are wired to. */
export interface MicroservicesStores {
  /** The generated service API key and the provider keys that were given. */
  readonly keys: GeneratedSecret;
  /** The message queue's streams. */
  readonly redis: Redis;
  /** The audit log. */
  readonly clickhouse: ClickHouse;
}

/**
 * The API keys, Redis for the streams (no eviction, append-only file) and ClickHouse for the audit log (with
 * nightly dumps), with the platform's sizes, classes and generated credentials.
 */
export function microservicesStores(scope: MicroservicesScope): MicroservicesStores {
  const { name, plan, namespace, parent } = scope;
  const { site, providerKeys } = plan;
  const keys = new GeneratedSecret(
    `${name}-api-keys`,
    {
      namespace,
      secretName: "service-api-keys",
      generate: { "service-api-key": { length: 48 } },
      provided: {
        ...(providerKeys.openai ? { "openai-api-key": providerKeys.openai } : {}),
        ...(providerKeys.anthropic ? { "anthropic-api-key": providerKeys.anthropic } : {}),
      },
      rotation: site.secretRotation,
    },
    { parent },
  );
  const redis = new Redis(
    `${name}-redis`,
    {
      namespace,
      partOf,
      image: site.images.image("redis"),
      resources: plan.sizes.redis,
      // A queue must never drop entries: writes fail at the limit instead, and streams are trimmed by length.
      evictionPolicy: "noeviction",
      persistence: true,
      storageClass: site.storageClasses.fast,
      storageSize: plan.volumes.redis,
      allowFrom: [{ app: "ai-service" }, { app: "audit-sink" }, { app: "message-queue" }],
      rotation: site.secretRotation,
      maintenance: site.maintenance,
    },
    { parent, protect: site.protectData },
  );
  const clickhouse = new ClickHouse(
    `${name}-clickhouse`,
    {
      namespace,
      partOf,
      image: site.images.image("clickhouse"),
      resources: plan.sizes.clickhouse,
      storageClass: site.storageClasses.fast,
      storageSize: plan.volumes.clickhouse,
      backup: { ...site.backup, storageClass: site.storageClasses.bulk, size: plan.volumes.backup },
      allowFrom: [{ app: "audit-sink" }],
      protect: site.protectData,
      rotation: site.secretRotation,
      maintenance: site.maintenance,
    },
    { parent },
  );
  return { keys, redis, clickhouse };
}

import { Postgres, Redis } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { AiCorePlan, partOf } from "./plan";

/** The platform's stores: PostgreSQL (the assistant's and Keycloak's databases, with backups) and Redis. */
export interface AiCoreStores {
  postgres: Postgres;
  redis: Redis;
}

export function aiCoreStores(
  name: string,
  plan: AiCorePlan,
  namespace: pulumi.Output<string>,
  parent: pulumi.Resource,
): AiCoreStores {
  const { site } = plan;
  const postgres = new Postgres(
    `${name}-postgres`,
    {
      namespace,
      partOf,
      image: site.images.image("postgres"),
      resources: plan.sizes.postgres,
      storageClass: site.storageClasses.fast,
      storageSize: `${plan.postgres.storageGi}Gi`,
      database: "assistant",
      user: "assistant",
      extraDatabases: [{ database: "keycloak", user: "keycloak" }],
      maxConnections: plan.postgres.maxConnections,
      consumers: plan.postgres.consumers.map((c) => ({ ...c })),
      allowFrom: [{ app: "orchestrator" }, { app: "keycloak" }],
      backup: { ...site.backup, storageClass: site.storageClasses.bulk },
      protect: site.protectData,
      rotation: site.secretRotation,
      maintenance: site.maintenance,
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
      // Sessions carry TTLs; only expiring keys are evicted, so live sessions are not lost at the limit.
      evictionPolicy: "volatile-lru",
      persistence: true,
      storageClass: site.storageClasses.fast,
      allowFrom: [{ app: "orchestrator" }],
      rotation: site.secretRotation,
      maintenance: site.maintenance,
    },
    { parent },
  );
  return { postgres, redis };
}

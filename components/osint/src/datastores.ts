import { BackupPolicy, ObjectStore, Postgres, Redis } from "@keel/core";
import { Elasticsearch } from "./elasticsearch";
import { Neo4j } from "./neo4j";
import { RabbitMQ } from "./rabbitmq";
import { OsintScope, partOf, peers } from "./scope";

/** The platform's data stores, which the services are wired to. */
export interface OsintDatastores {
  readonly postgres: Postgres;
  readonly redis: Redis;
  readonly elasticsearch: Elasticsearch;
  readonly rabbitmq: RabbitMQ;
  readonly neo4j: Neo4j;
  readonly objectStore: ObjectStore;
}

/** Every app that reads or writes the data; the connector only uses the queue and the object store. */
const services = ["orchestrator", "collector", "enricher"];
const connector = "opencti-connector";

/** Backup schedule and retention from the site, on a bulk volume of the platform's backup size. */
function backupPolicy({ plan }: OsintScope): BackupPolicy {
  return { ...plan.site.backup, storageClass: plan.site.storageClasses.bulk, size: plan.volumes.backup };
}

/**
 * PostgreSQL (its pools checked against `max_connections`), Redis, Elasticsearch, RabbitMQ, Neo4j and the S3
 * object store, each with the platform's sizes, classes and generated credentials.
 */
export function osintDatastores(scope: OsintScope): OsintDatastores {
  return {
    postgres: postgres(scope),
    redis: redis(scope),
    elasticsearch: elasticsearch(scope),
    rabbitmq: rabbitmq(scope),
    neo4j: neo4j(scope),
    objectStore: objectStore(scope),
  };
}

function postgres(scope: OsintScope): Postgres {
  const { name, plan, namespace, parent } = scope;
  return new Postgres(
    `${name}-postgres`,
    {
      namespace,
      partOf,
      image: plan.site.images.image("postgres"),
      resources: plan.sizes.postgres,
      storageClass: plan.site.storageClasses.fast,
      storageSize: plan.volumes.postgres,
      database: "osint",
      user: "osint",
      maxConnections: plan.replicas.maxConnections,
      reservedConnections: plan.replicas.reservedConnections,
      consumers: [...plan.postgresConsumers],
      allowFrom: peers(...services),
      backup: backupPolicy(scope),
      protect: plan.site.protectData,
      rotation: plan.site.secretRotation,
      maintenance: plan.site.maintenance,
    },
    { parent },
  );
}

function redis({ name, plan, namespace, parent }: OsintScope): Redis {
  return new Redis(
    `${name}-redis`,
    {
      namespace,
      partOf,
      image: plan.site.images.image("redis"),
      resources: plan.sizes.redis,
      // Crawl state and caches carry TTLs: only expiring keys are evicted at the limit.
      evictionPolicy: "volatile-lru",
      persistence: true,
      storageClass: plan.site.storageClasses.fast,
      storageSize: plan.volumes.redis,
      allowFrom: peers(...services),
      rotation: plan.site.secretRotation,
      maintenance: plan.site.maintenance,
    },
    { parent },
  );
}

function elasticsearch(scope: OsintScope): Elasticsearch {
  const { name, plan, namespace, parent } = scope;
  return new Elasticsearch(
    `${name}-elasticsearch`,
    {
      namespace,
      partOf,
      image: plan.site.images.image("elasticsearch"),
      resources: plan.sizes.elasticsearch,
      setupResources: plan.sizes.elasticsearchSetup,
      backup: backupPolicy(scope),
      storageClass: plan.site.storageClasses.fast,
      storageSize: plan.volumes.elasticsearch,
      allowFrom: peers(...services),
      protect: plan.site.protectData,
      rotation: plan.site.secretRotation,
      maintenance: plan.site.maintenance,
    },
    { parent },
  );
}

function rabbitmq({ name, plan, namespace, parent }: OsintScope): RabbitMQ {
  return new RabbitMQ(
    `${name}-rabbitmq`,
    {
      namespace,
      partOf,
      image: plan.site.images.image("rabbitmq"),
      resources: plan.sizes.rabbitmq,
      storageClass: plan.site.storageClasses.fast,
      storageSize: plan.volumes.rabbitmq,
      allowFrom: peers(...services, connector),
      protect: plan.site.protectData,
      rotation: plan.site.secretRotation,
      maintenance: plan.site.maintenance,
    },
    { parent },
  );
}

function neo4j(scope: OsintScope): Neo4j {
  const { name, plan, namespace, parent } = scope;
  return new Neo4j(
    `${name}-neo4j`,
    {
      namespace,
      partOf,
      image: plan.site.images.image("neo4j"),
      resources: plan.sizes.neo4j,
      storageClass: plan.site.storageClasses.fast,
      storageSize: plan.volumes.neo4j,
      backup: backupPolicy(scope),
      allowFrom: peers("orchestrator", "enricher"),
      protect: plan.site.protectData,
      rotation: plan.site.secretRotation,
      maintenance: plan.site.maintenance,
    },
    { parent },
  );
}

function objectStore({ name, plan, namespace, parent }: OsintScope): ObjectStore {
  return new ObjectStore(
    `${name}-s3`,
    {
      namespace,
      partOf,
      backend: plan.settings.objectStore,
      images: plan.site.images,
      resources: plan.sizes.objectStore,
      storageClass: plan.site.storageClasses.bulk,
      storageSize: plan.volumes.objectStore,
      allowFrom: peers(...services, connector),
      protect: plan.site.protectData,
      rotation: plan.site.secretRotation,
      maintenance: plan.site.maintenance,
    },
    { parent },
  );
}

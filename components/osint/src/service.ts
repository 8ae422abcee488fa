import { ImageKey, NetworkPeer, SecretKeyRef, Workload, standardProbes } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { OsintDatastores } from "./datastores";
import { OsintScope, partOf } from "./scope";

/** The port every OSINT service serves HTTP (and `/health`) on. */
export const servicePort = 8080;

/** One OSINT service: its size, image and app name, and how it is scaled and wired. */
export interface OsintServiceSpec {
  component: "orchestrator" | "collector" | "enricher" | "connector" | "opsUi";
  appName: string;
  image: ImageKey;
  replicas?: number;
  autoscaling?: { minReplicas: number; maxReplicas: number };
  env?: Record<string, pulumi.Input<string>>;
  secretEnv?: Record<string, SecretKeyRef>;
  allowFrom?: NetworkPeer[];
  egressTo?: NetworkPeer[];
  annotations?: Record<string, string>;
}

/**
 * A service of the platform (all share one shape: HTTP on 8080 with `/health` probes, uid 10001, a minute
 * to drain), started after the search index, the queue and the graph it connects to.
 */
export function osintService(
  { name, plan, namespace, parent }: OsintScope,
  stores: OsintDatastores,
  spec: OsintServiceSpec,
): Workload {
  return new Workload(
    `${name}-${spec.appName}`,
    {
      namespace,
      appName: spec.appName,
      partOf,
      image: plan.site.images.image(spec.image),
      replicas: spec.replicas,
      autoscaling: spec.autoscaling && { ...spec.autoscaling, cpuUtilization: 70, memoryUtilization: 80 },
      resources: plan.sizes[spec.component],
      bootSeconds: 30,
      probes: standardProbes({ http: { path: "/health", port: servicePort } }, 30),
      ports: [{ name: "http", port: servicePort }],
      env: spec.env,
      secretEnv: spec.secretEnv,
      runAsUser: 10001,
      terminationGracePeriodSeconds: 60,
      allowFrom: spec.allowFrom,
      egressTo: spec.egressTo,
      annotations: spec.annotations,
    },
    { parent, dependsOn: [stores.elasticsearch, stores.rabbitmq, stores.neo4j] },
  );
}

/** What the orchestrator and the workers are told about the data stores, and where they may connect. */
export interface StoreClients {
  /** Endpoints, users and pools (no credential in them). */
  readonly env: Record<string, pulumi.Input<string>>;
  /** The stores' passwords and keys. */
  readonly secretEnv: Record<string, SecretKeyRef>;
  /** Elasticsearch, RabbitMQ, Redis and the object store. */
  readonly egress: NetworkPeer[];
  readonly postgresEgress: NetworkPeer;
  readonly neo4jEgress: NetworkPeer;
  /** The PostgreSQL pool each replica opens, for the connection budget's annotation. */
  readonly dbPools: Record<string, string>;
}

export function storeClients(scope: OsintScope, stores: OsintDatastores): StoreClients {
  const { elasticsearch, neo4j, rabbitmq, redis, objectStore, postgres } = stores;
  const app = scope.plan.settings;
  return {
    env: {
      ELASTICSEARCH_URL: elasticsearch.url,
      ELASTICSEARCH_USERNAME: "osint",
      ELASTICSEARCH_INDEX_PREFIX: "osint-",
      NEO4J_URI: neo4j.uri,
      NEO4J_USER: "neo4j",
      RABBITMQ_HOST: rabbitmq.host,
      RABBITMQ_PORT: String(rabbitmq.port),
      RABBITMQ_USER: rabbitmq.user,
      RABBITMQ_PREFETCH: String(app.rabbitmqPrefetch),
      REDIS_HOST: redis.host,
      REDIS_PORT: String(redis.port),
      REDIS_POOL_SIZE: String(app.redisPoolSize),
      S3_ENDPOINT: objectStore.endpoint,
      S3_BUCKET: "osint",
    },
    secretEnv: {
      ELASTICSEARCH_PASSWORD: elasticsearch.appPasswordRef(),
      RABBITMQ_PASSWORD: rabbitmq.passwordRef(),
      REDIS_PASSWORD: redis.passwordRef(),
      S3_ACCESS_KEY: objectStore.accessKeyRef(),
      S3_SECRET_KEY: objectStore.secretKeyRef(),
    },
    egress: [
      { app: "elasticsearch", ports: [elasticsearch.port] },
      { app: "rabbitmq", ports: [rabbitmq.port] },
      { app: "redis", ports: [redis.port] },
      { app: "s3", ports: [objectStore.port] },
    ],
    postgresEgress: { app: "postgres", ports: [postgres.port] },
    neo4jEgress: { app: "neo4j", ports: [neo4j.boltPort] },
    dbPools: { "keel.dev/db-pools": `${postgres.databaseId}=${app.dbPoolSize}` },
  };
}

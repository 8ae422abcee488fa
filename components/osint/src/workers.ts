import { Workload } from "@keel/core";
import { OsintDatastores } from "./datastores";
import { OsintScope, internet, peers } from "./scope";
import { osintService, storeClients } from "./service";

/** The services that read and write the data: the orchestrator and the autoscaled collector and enricher. */
export interface OsintWorkers {
  readonly orchestrator: Workload;
  readonly collector: Workload;
  readonly enricher: Workload;
}

/**
 * The orchestrator (fixed replicas, called by the ops UI) and the collector and enricher workers
 * (autoscaled, called by the orchestrator; the collector crawls and the enricher looks up the internet).
 */
export function osintWorkers(scope: OsintScope, stores: OsintDatastores): OsintWorkers {
  const { plan } = scope;
  const app = plan.settings;
  const clients = storeClients(scope, stores);
  const { postgres, neo4j } = stores;
  const orchestrator = osintService(scope, stores, {
    component: "orchestrator",
    appName: "orchestrator",
    image: "osintOrchestrator",
    replicas: plan.replicas.orchestrator,
    env: { ...clients.env, DB_POOL_SIZE: String(app.dbPoolSize), NEO4J_POOL_SIZE: String(app.neo4jPoolSize) },
    secretEnv: { ...clients.secretEnv, DATABASE_URL: postgres.urlRef(), NEO4J_PASSWORD: neo4j.passwordRef() },
    allowFrom: peers("ops-ui"),
    egressTo: [...clients.egress, clients.postgresEgress, clients.neo4jEgress],
    annotations: clients.dbPools,
  });
  const collector = osintService(scope, stores, {
    component: "collector",
    appName: "collector",
    image: "osintCollector",
    autoscaling: plan.replicas.collector,
    env: {
      ...clients.env,
      DB_POOL_SIZE: String(app.dbPoolSize),
      CONCURRENT_REQUESTS: String(app.collectorConcurrentRequests),
      DOWNLOAD_DELAY: String(app.collectorDownloadDelaySeconds),
    },
    secretEnv: { ...clients.secretEnv, DATABASE_URL: postgres.urlRef() },
    allowFrom: peers("orchestrator"),
    egressTo: [...clients.egress, clients.postgresEgress, ...internet],
    annotations: clients.dbPools,
  });
  const enricher = osintService(scope, stores, {
    component: "enricher",
    appName: "enricher",
    image: "osintEnricher",
    autoscaling: plan.replicas.enricher,
    env: {
      ...clients.env,
      DB_POOL_SIZE: String(app.dbPoolSize),
      NEO4J_POOL_SIZE: String(app.neo4jPoolSize),
      BATCH_SIZE: String(app.enricherBatchSize),
    },
    secretEnv: { ...clients.secretEnv, DATABASE_URL: postgres.urlRef(), NEO4J_PASSWORD: neo4j.passwordRef() },
    allowFrom: peers("orchestrator"),
    egressTo: [...clients.egress, clients.postgresEgress, clients.neo4jEgress, ...internet],
    annotations: clients.dbPools,
  });
  return { orchestrator, collector, enricher };
}

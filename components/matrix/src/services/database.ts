import { NetworkPeer, PgBouncer, Postgres } from "@keel/core";
import { exporterAppName } from "@keel/monitoring";
import { SynapseDatabaseSettings } from "../config";
import { MatrixContext } from "./context";

/** Synapse's database: the server, the pooler in front of it, and how to reach them. */
export interface MatrixDatabase {
  postgres: Postgres;
  pgbouncer: PgBouncer;
  /** The server's app (its Service name). */
  serverApp: string;
  database: string;
  user: string;
  /** What Synapse connects to: PgBouncer. */
  synapse: SynapseDatabaseSettings;
  /** Egress to PgBouncer. */
  poolerPeer: NetworkPeer;
  /** The publication the LI replica subscribes to, when it runs. */
  publication?: { name: string; user: string };
}

const serverApp = "synapse-postgres";
const poolerApp = "pgbouncer";
const database = "synapse";
const user = "synapse";

/**
 * PostgreSQL for Synapse (UTF8 with C collation and ctype, which Synapse requires; a publication feeds the
 * LI replica) behind PgBouncer in session mode, its pool sized from every Synapse process at full scale.
 */
export function matrixDatabase(c: MatrixContext): MatrixDatabase {
  const { plan, site } = c;
  const li = plan.lawfulIntercept;
  const publication = li ? { name: "synapse_li", user: "li_replicator" } : undefined;
  const postgres = new Postgres(
    `${c.name}-postgres`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      image: site.images.image("postgres"),
      appName: serverApp,
      resources: c.resources.postgres,
      storageClass: site.storageClasses.fast,
      storageSize: plan.storage.postgres,
      database,
      user,
      initdbArgs: "--encoding=UTF8 --lc-collate=C --lc-ctype=C",
      maxConnections: plan.settings.maxConnections,
      reservedConnections: plan.settings.reservedConnections,
      publication,
      allowFrom: [
        { app: poolerApp },
        ...(plan.monitored ? [{ app: exporterAppName(serverApp) }] : []),
        ...(li ? li.readers.database : []),
      ],
      backup: { ...site.backup, storageClass: site.storageClasses.bulk },
      protect: site.protectData,
      rotation: site.secretRotation,
      maintenance: site.maintenance,
    },
    { parent: c.parent },
  );
  const pgbouncer = new PgBouncer(
    `${c.name}-pgbouncer`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      image: site.images.image("pgbouncer"),
      resources: c.resources.pgbouncer,
      serverApp,
      databaseId: postgres.databaseId,
      database,
      user,
      password: postgres.credentials.values.password,
      rotation: postgres.credentials.rotation,
      poolMode: plan.pgbouncer.poolMode,
      poolSize: plan.pgbouncer.defaultPoolSize,
      maxClientConnections: plan.pgbouncer.maxClientConn,
      replicas: plan.replicas.pgbouncer,
      allowFrom: plan.synapseApps.map((app) => ({ app })),
      maintenance: site.maintenance,
    },
    { parent: c.parent },
  );
  return {
    postgres,
    pgbouncer,
    serverApp,
    database,
    user,
    synapse: { host: poolerApp, database, user },
    poolerPeer: { app: poolerApp, ports: [pgbouncer.port] },
    publication,
  };
}

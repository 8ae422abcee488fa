import { BatchJob, GeneratedSecret, Postgres } from "@keel/core";
import type { LawfulInterceptPlan, LawfulInterceptSource } from "../lawful-intercept";
import { NamespaceContext } from "../services/context";
import { lawfulInterceptApps as apps } from "./apps";

/**
 * The replica's schema and subscription. Logical replication carries rows, not DDL or sequence values, so
 * the job copies the publisher's schema first, subscribes with an initial copy, and records which Synapse
 * version the schema came from. When Synapse is upgraded (its migrations change main's schema), the job is
 * replaced and resynchronises from scratch: the replica only ever holds replicated data, so nothing is lost.
 * After a credential rotation (`rotated`) the job runs again and gives the subscription main's new password,
 * which the subscription keeps in its connection string.
 */
export function replicationSetupScript(rotated = false): string {
  const newConnection = [
    "psql -v ON_ERROR_STOP=1 -v conn=\"${main}\" <<'SQL'",
    "ALTER SUBSCRIPTION synapse_li CONNECTION :'conn';",
    "SQL",
  ];
  return [
    "set -euo pipefail",
    'main="host=${MAIN_HOST} port=5432 dbname=${MAIN_DB} user=${MAIN_USER} password=${MAIN_PASSWORD}"',
    'marker="keel-li-schema ${SCHEMA_VERSION}"',
    "current=\"$(psql -Atc \"SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = current_database()\")\"",
    'if [ "${current}" = "${marker}" ]; then',
    '  echo "schema is current (${SCHEMA_VERSION}); refreshing the subscription"',
    ...(rotated ? newConnection : []),
    '  psql -v ON_ERROR_STOP=1 -c "ALTER SUBSCRIPTION synapse_li REFRESH PUBLICATION"',
    "  exit 0",
    "fi",
    'echo "resynchronising the replica to schema ${SCHEMA_VERSION}"',
    'pg_dump --schema-only --no-owner --no-privileges --no-publications --no-subscriptions "${main}" > /tmp/schema.sql',
    "psql -v ON_ERROR_STOP=1 <<SQL",
    "DROP SUBSCRIPTION IF EXISTS synapse_li;",
    "DROP SCHEMA IF EXISTS public CASCADE;",
    "CREATE SCHEMA public;",
    "SQL",
    "psql -v ON_ERROR_STOP=1 -f /tmp/schema.sql",
    'psql -v ON_ERROR_STOP=1 -v conn="${main}" -v pub="${PUBLICATION}" <<\'SQL\'',
    "CREATE SUBSCRIPTION synapse_li CONNECTION :'conn' PUBLICATION :\"pub\" WITH (copy_data = true);",
    "SQL",
    "psql -v ON_ERROR_STOP=1 -c \"COMMENT ON DATABASE ${PGDATABASE} IS '${marker}'\"",
    'echo "subscribed; initial copy running"',
  ].join("\n");
}

/** Copies sequence positions main → replica (logical replication does not). */
export function sequenceSyncScript(): string {
  return [
    "set -euo pipefail",
    'main="host=${MAIN_HOST} port=5432 dbname=${MAIN_DB} user=${MAIN_USER} password=${MAIN_PASSWORD}"',
    "psql -Atc \"SELECT format('SELECT setval(%L, %s, true);', schemaname || '.' || sequencename, last_value) FROM pg_sequences WHERE last_value IS NOT NULL\" \"${main}\" > /tmp/setval.sql",
    "psql -v ON_ERROR_STOP=1 --single-transaction -q -f /tmp/setval.sql",
    'echo "sequences synchronised: $(wc -l < /tmp/setval.sql)"',
  ].join("\n");
}

/** The replica's database and how it stays in step with main's. */
export interface LiDatabase {
  /** The replica's copy of main's credentials: replication password and object store keys. */
  mainAccess: GeneratedSecret;
  /** synapse (the replica) and key_vault. */
  postgres: Postgres;
}

/**
 * The replica's PostgreSQL (synapse subscribed to main's publication, key_vault beside it), the job that
 * copies main's schema and subscribes, and the scheduled copy of sequence positions.
 */
export function liDatabase(
  c: NamespaceContext,
  plan: LawfulInterceptPlan,
  main: LawfulInterceptSource,
): LiDatabase {
  const { site, mainNamespace } = plan;
  const child = { parent: c.parent };
  const mainAccess = new GeneratedSecret(
    `${c.name}-main-access`,
    {
      namespace: c.namespace,
      secretName: "li-main-access",
      generate: {},
      provided: {
        "replication-password": main.replicationPassword,
        "s3-access-key": main.s3AccessKey,
        "s3-secret-key": main.s3SecretKey,
      },
      // Copies of main's, which rotate with the site.
      rotation: site.secretRotation,
    },
    child,
  );
  const postgres = new Postgres(
    `${c.name}-postgres`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      image: site.images.image("postgres"),
      appName: apps.postgres,
      resources: c.resources.postgres,
      storageClass: site.storageClasses.fast,
      storageSize: plan.storage.postgres,
      database: "synapse",
      user: "synapse",
      initdbArgs: "--encoding=UTF8 --lc-collate=C --lc-ctype=C",
      extraDatabases: [{ database: "key_vault", user: "key_vault" }],
      allowFrom: [
        { app: apps.synapse },
        { app: apps.keyVault },
        { app: apps.replicationSetup },
        { app: apps.sequenceSync },
      ],
      // The subscription's apply worker connects from this server to main's publication.
      egressTo: [{ app: main.postgresApp, namespace: mainNamespace, ports: [5432] }],
      backup: { ...site.backup, storageClass: site.storageClasses.bulk },
      protect: site.protectData,
      rotation: site.secretRotation,
      maintenance: site.maintenance,
    },
    child,
  );
  const syncEnv = {
    MAIN_HOST: `${main.postgresApp}.${mainNamespace}.svc`,
    MAIN_DB: main.database,
    MAIN_USER: main.replicationUser,
    PGHOST: apps.postgres,
    PGDATABASE: "synapse",
    PGUSER: "synapse",
    PUBLICATION: main.publication,
  };
  const sync = {
    namespace: c.namespace,
    partOf: c.partOf,
    image: site.images.image("postgres"),
    runAsUser: 999,
    resources: c.resources.syncJob,
    secretEnv: {
      MAIN_PASSWORD: mainAccess.ref("replication-password"),
      PGPASSWORD: postgres.passwordRef(),
    },
    egressTo: [
      { app: main.postgresApp, namespace: mainNamespace, ports: [5432] },
      { app: apps.postgres, ports: [5432] },
    ],
  };
  new BatchJob(
    `${c.name}-replication-setup`,
    {
      ...sync,
      appName: apps.replicationSetup,
      command: ["bash", "-c", replicationSetupScript(site.secretRotation > 0)],
      env: { ...syncEnv, SCHEMA_VERSION: plan.schemaVersion },
    },
    { parent: c.parent, dependsOn: [postgres] },
  );
  new BatchJob(
    `${c.name}-sequence-sync`,
    {
      ...sync,
      appName: apps.sequenceSync,
      command: ["bash", "-c", sequenceSyncScript()],
      schedule: plan.schedule,
      deadlineSeconds: 600,
      env: syncEnv,
    },
    child,
  );
  return { mainAccess, postgres };
}

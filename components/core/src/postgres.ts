import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PostgresBackup } from "./backup";
import { BackupPolicy } from "./backup-policy";
import { annotations as keys } from "./conventions";
import { ValidationError, throwIfInvalid } from "./errors";
import { NetworkPeer } from "./network";
import { detectionSeconds } from "./probes";
import { passwordAdoption } from "./postgres-rotation";
import { ConnectionConsumer, checkConnectionBudget, postgresArgs, postgresTuning } from "./postgres-tuning";
import { parseMemory } from "./quantity";
import { ResourceSpec, validateResources } from "./resources";
import { GeneratedSecret } from "./secrets";
import { SecretKeyRef } from "./volumes";
import { Workload } from "./workload";

export interface PostgresArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** Full image reference (official postgres image). */
  image: string;
  /** @default "postgres" */
  appName?: string;
  /** Requests and limits; memory settings are derived from limits.memory. */
  resources: ResourceSpec;
  /** Storage class for the data volume (fast class). */
  storageClass: string;
  /** @default "10Gi" */
  storageSize?: string;
  /** The application database. */
  database: string;
  /** The application role (owner of the database). */
  user: string;
  /** @default 100 */
  maxConnections?: number;
  /** Connections kept free for superuser and maintenance. @default 10 */
  reservedConnections?: number;
  /** Every client and its pool; their sum must fit the budget. @default [] */
  consumers?: ConnectionConsumer[];
  /**
   * More databases, each owned by its own generated role (e.g. Keycloak's); the backup job dumps them with
   * the application database. @default []
   */
  extraDatabases?: { database: string; user: string }[];
  /** Extra initdb arguments, e.g. Synapse's `--encoding=UTF8 --lc-collate=C --lc-ctype=C`. @default "--encoding=UTF8" */
  initdbArgs?: string;
  /**
   * Publish every table for logical replication (e.g. to a lawful-intercept replica): sets
   * `wal_level=logical` and creates a REPLICATION role that may read the database's tables. Every table
   * without a primary key gets REPLICA IDENTITY FULL, now and when created later (see publicationInitScript).
   * DDL and sequences are not replicated by PostgreSQL; the subscriber must apply schema changes and copy
   * sequences itself.
   * @default undefined
   */
  publication?: { name: string; user: string };
  /** Who may connect on 5432 (the backup job is always allowed). @default [] */
  allowFrom?: NetworkPeer[];
  /** Where the server may connect, e.g. a logical-replication subscriber to its publisher. @default [] */
  egressTo?: NetworkPeer[];
  /** Scheduled dumps with retention. */
  backup: BackupPolicy;
  /** Protect the server from `pulumi destroy` (prod). @default false */
  protect?: boolean;
  /**
   * Bump to rotate the passwords; the server then sets them on its existing data before it starts
   * (postgres-rotation.ts). @default 0
   */
  rotation?: number;
  /** A node maintenance window: the single pod's budget lets drains evict it. @default false */
  maintenance?: boolean;
}

const sqlIdentifier = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The init script that creates each extra role and database on first start. It holds no secret: each
 * password comes from an environment variable filled from the credentials Secret.
 */
export function extraDatabasesInitScript(databases: { database: string; user: string }[]): string {
  const lines = ["#!/bin/bash", "set -euo pipefail"];
  for (const d of databases) {
    lines.push(
      `psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v pw="$${passwordEnv(d.user)}" <<'SQL'`,
      `CREATE ROLE ${d.user} LOGIN PASSWORD :'pw';`,
      `CREATE DATABASE ${d.database} OWNER ${d.user} ENCODING 'UTF8' TEMPLATE template0;`,
      "SQL",
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * Keeps every table replicable: REPLICA IDENTITY FULL (the whole old row identifies it) for a table with no
 * primary key and no identity index, DEFAULT (the primary key) for one that has a primary key but FULL or
 * NOTHING, untouched otherwise (a table with its key, USING INDEX with the index there, FULL without a key).
 * Applied to the tables there now, and by an event trigger at the end of every CREATE TABLE (AS), SELECT INTO
 * and ALTER TABLE, in the DDL's transaction and as the role issuing it (the table's owner or the superuser).
 * A table created without a key and keyed by a later ALTER TABLE (as pg_dump-style schemas such as Synapse's
 * do) thus ends with DEFAULT, not FULL's larger WAL. The functions live in `public` so that the LI replica's
 * schema copy (pg_dump of main, whose resync drops and recreates `public`) carries and replaces them.
 */
const replicaIdentitySql = [
  "CREATE OR REPLACE FUNCTION public.keel_replica_identity_wanted(rel oid) RETURNS text",
  "LANGUAGE sql STABLE SET search_path = pg_catalog AS $$",
  "  SELECT CASE",
  "    WHEN c.relkind NOT IN ('r', 'p') OR c.relpersistence <> 'p' THEN NULL",
  "    WHEN c.relreplident = 'i' AND EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident) THEN NULL",
  "    WHEN EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)",
  "      THEN CASE WHEN c.relreplident = 'd' THEN NULL ELSE 'DEFAULT' END",
  "    WHEN c.relreplident = 'f' THEN NULL",
  "    ELSE 'FULL' END",
  "  FROM pg_class c WHERE c.oid = rel",
  "$$;",
  "CREATE OR REPLACE FUNCTION public.keel_replica_identity() RETURNS event_trigger",
  "LANGUAGE plpgsql SET search_path = pg_catalog AS $$",
  "DECLARE rel oid; wanted text;",
  "BEGIN",
  "  FOR rel IN SELECT DISTINCT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'table' LOOP",
  "    wanted := public.keel_replica_identity_wanted(rel);",
  "    IF wanted IS NOT NULL THEN",
  "      EXECUTE format('ALTER TABLE %s REPLICA IDENTITY %s', rel::regclass, wanted);",
  "    END IF;",
  "  END LOOP;",
  "END",
  "$$;",
  "DROP EVENT TRIGGER IF EXISTS keel_replica_identity;",
  "CREATE EVENT TRIGGER keel_replica_identity ON ddl_command_end",
  "  WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE')",
  "  EXECUTE FUNCTION public.keel_replica_identity();",
  "SELECT format('ALTER TABLE %s REPLICA IDENTITY %s', c.oid::regclass, public.keel_replica_identity_wanted(c.oid))",
  "  FROM pg_class c WHERE c.oid >= 16384",
  "  AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)",
  "  AND public.keel_replica_identity_wanted(c.oid) IS NOT NULL \\gexec",
];

/**
 * The init script that creates the replication role, a publication of all tables and what keeps every
 * published table replicable. A publication that publishes updates and deletes refuses them on any table
 * without a replica identity (`cannot delete from table ... because it does not have a replica identity and
 * publishes deletes`), and most of Synapse's tables have no primary key; its upgrades add more. So each table
 * without a key gets REPLICA IDENTITY FULL, now and whenever DDL creates or alters one (replicaIdentitySql).
 * The script is idempotent: run again as the superuser (`kubectl exec` into the server) it converges an
 * existing database to the same state. Tables created later are readable by the role through default
 * privileges.
 */
export function publicationInitScript(p: {
  name: string;
  user: string;
  database: string;
  owner: string;
}): string {
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    `psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v pw="$${passwordEnv(p.user)}" <<'SQL'`,
    "SET client_min_messages = warning;",
    `SELECT 'CREATE ROLE ${p.user}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${p.user}') \\gexec`,
    `ALTER ROLE ${p.user} WITH REPLICATION LOGIN PASSWORD :'pw';`,
    `GRANT CONNECT ON DATABASE ${p.database} TO ${p.user};`,
    `GRANT USAGE ON SCHEMA public TO ${p.user};`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${p.user};`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${p.owner} IN SCHEMA public GRANT SELECT ON TABLES TO ${p.user};`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${p.owner} IN SCHEMA public GRANT SELECT ON SEQUENCES TO ${p.user};`,
    ...replicaIdentitySql,
    `SELECT 'CREATE PUBLICATION ${p.name} FOR ALL TABLES' WHERE NOT EXISTS (SELECT FROM pg_publication WHERE pubname = '${p.name}') \\gexec`,
    "SQL",
    "",
  ].join("\n");
}

function passwordEnv(user: string): string {
  return `${user.toUpperCase()}_PASSWORD`;
}

export function validatePostgresArgs(args: PostgresArgs): ValidationError[] {
  const problems = validateResources("resources", args.resources);
  const maxConnections = args.maxConnections ?? 100;
  const reserved = args.reservedConnections ?? 10;
  if (!Number.isInteger(maxConnections) || maxConnections < 10 || maxConnections > 5000) {
    problems.push(
      new ValidationError("maxConnections", `must be an integer from 10 to 5000, got ${maxConnections}`),
    );
  }
  if (!Number.isInteger(reserved) || reserved < 3 || reserved >= maxConnections) {
    problems.push(
      new ValidationError("reservedConnections", `must be an integer from 3 to maxConnections − 1`),
    );
  }
  const identifiers = [
    ["database", args.database],
    ["user", args.user],
    ...(args.publication
      ? [
          ["publication.name", args.publication.name],
          ["publication.user", args.publication.user],
        ]
      : []),
    ...(args.extraDatabases ?? []).flatMap((d, i) => [
      [`extraDatabases[${i}].database`, d.database],
      [`extraDatabases[${i}].user`, d.user],
    ]),
  ];
  for (const [field, value] of identifiers) {
    if (!sqlIdentifier.test(value ?? "")) {
      problems.push(new ValidationError(field, `"${value}" must be a lower-case SQL identifier`));
    }
  }
  if (problems.length === 0) {
    try {
      postgresTuning(parseMemory(args.resources.limits.memory), maxConnections);
    } catch (e) {
      problems.push(e as ValidationError);
    }
    problems.push(
      ...checkConnectionBudget(args.appName ?? "postgres", maxConnections, reserved, args.consumers ?? []),
    );
  }
  return problems;
}

/**
 * PostgreSQL (official image) as a StatefulSet: memory settings derived from the limit, a connection budget
 * its consumers are checked against, pg_isready probes, a generated password and nightly dumps with retention.
 */
export class Postgres extends pulumi.ComponentResource {
  /** In-namespace host name of the server. */
  readonly host: pulumi.Output<string>;
  readonly port = 5432;
  /** The Secret holding `password` and a full `url` for the application role. */
  readonly credentials: GeneratedSecret;
  /** Id used by the policy pack to pair the server with its backups and pools. */
  readonly databaseId: string;

  constructor(name: string, args: PostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:Postgres", name, {}, opts);
    throwIfInvalid(validatePostgresArgs(args));
    const app = args.appName ?? "postgres";
    this.databaseId = `${args.partOf}/${app}`;
    const maxConnections = args.maxConnections ?? 100;
    const reserved = args.reservedConnections ?? 10;
    const extra = args.extraDatabases ?? [];
    const tuning = postgresTuning(parseMemory(args.resources.limits.memory), maxConnections);

    this.credentials = new GeneratedSecret(
      `${name}-credentials`,
      {
        namespace: args.namespace,
        secretName: `${app}-credentials`,
        generate: {
          password: { length: 32 },
          ...Object.fromEntries(extra.map((d) => [`${d.user}-password`, { length: 32 }])),
          ...(args.publication ? { [`${args.publication.user}-password`]: { length: 32 } } : {}),
        },
        derive: ({ password }) => ({
          url: pulumi.interpolate`postgresql://${args.user}:${password}@${app}.${args.namespace}.svc:5432/${args.database}`,
        }),
        rotation: args.rotation,
      },
      { parent: this },
    );

    const initFiles: Record<string, string> = {
      ...(extra.length > 0 ? { "10-extra-databases.sh": extraDatabasesInitScript(extra) } : {}),
      ...(args.publication
        ? {
            "20-publication.sh": publicationInitScript({
              ...args.publication,
              database: args.database,
              owner: args.user,
            }),
          }
        : {}),
    };
    const initScripts =
      Object.keys(initFiles).length > 0
        ? new k8s.core.v1.ConfigMap(
            `${name}-initdb`,
            { metadata: { name: `${app}-initdb`, namespace: args.namespace }, data: initFiles },
            { parent: this },
          )
        : undefined;
    const replicationUsers = args.publication ? [args.publication.user] : [];
    const otherUsers = [...extra.map((d) => d.user), ...replicationUsers];
    const adoption = passwordAdoption(this.credentials.rotation, {
      [args.user]: "POSTGRES_PASSWORD",
      ...Object.fromEntries(otherUsers.map((user) => [user, passwordEnv(user)])),
    });

    const check = {
      exec: { command: ["pg_isready", "-h", "127.0.0.1", "-U", args.user, "-d", args.database] },
    };
    const probes = {
      startup: { ...check, periodSeconds: 5, failureThreshold: 60, timeoutSeconds: 5 },
      readiness: { ...check, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
      liveness: { ...check, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
    };
    const server = new Workload(
      `${name}`,
      {
        namespace: args.namespace,
        appName: app,
        partOf: args.partOf,
        kind: "StatefulSet",
        image: args.image,
        ...(adoption ? { command: adoption.command } : {}),
        args: [
          ...postgresArgs(tuning),
          ...(args.publication
            ? ["-c", "wal_level=logical", "-c", "max_replication_slots=10", "-c", "max_wal_senders=10"]
            : []),
        ],
        resources: args.resources,
        probes,
        bootSeconds: Math.min(detectionSeconds(probes.startup), 120),
        ports: [{ name: "postgres", port: 5432 }],
        env: {
          POSTGRES_USER: args.user,
          POSTGRES_DB: args.database,
          PGDATA: "/var/lib/postgresql/data/pgdata",
          POSTGRES_INITDB_ARGS: args.initdbArgs ?? "--encoding=UTF8",
          ...adoption?.env,
        },
        secretEnv: {
          POSTGRES_PASSWORD: this.credentials.ref("password"),
          ...Object.fromEntries(
            otherUsers.map((user) => [passwordEnv(user), this.credentials.ref(`${user}-password`)]),
          ),
        },
        configFiles: [
          ...(initScripts
            ? [
                {
                  name: "initdb",
                  mountPath: "/docker-entrypoint-initdb.d",
                  configMapName: initScripts.metadata.name,
                },
              ]
            : []),
          ...(adoption?.configFiles ?? []),
        ],
        runAsUser: 999,
        persistentVolumes: [
          {
            name: "data",
            mountPath: "/var/lib/postgresql/data",
            size: args.storageSize ?? "10Gi",
            storageClass: args.storageClass,
          },
        ],
        scratchVolumes: [{ name: "run", mountPath: "/var/run/postgresql", sizeLimit: "16Mi" }],
        critical: true,
        maintenance: args.maintenance,
        terminationGracePeriodSeconds: 120,
        allowFrom: [...(args.allowFrom ?? []), { app: `${app}-backup` }],
        egressTo: args.egressTo,
        annotations: {
          [keys.database]: this.databaseId,
          [keys.dbMaxConnections]: String(maxConnections),
          [keys.dbReservedConnections]: String(reserved),
        },
      },
      { parent: this, protect: args.protect ?? false },
    );
    this.host = server.serviceName;

    new PostgresBackup(
      `${name}-backup`,
      {
        namespace: args.namespace,
        partOf: args.partOf,
        databaseId: this.databaseId,
        serverApp: app,
        image: args.image,
        database: args.database,
        extraDatabases: extra.map((d) => d.database),
        user: args.user,
        password: this.credentials.ref("password"),
        policy: args.backup,
      },
      { parent: this },
    );
    this.registerOutputs({ host: this.host, credentials: this.credentials.secretName });
  }

  /** The Secret key with the application role's password. */
  passwordRef(): SecretKeyRef {
    return this.credentials.ref("password");
  }

  /** The Secret key with the password of an extra database's role. */
  extraPasswordRef(user: string): SecretKeyRef {
    return this.credentials.ref(`${user}-password`);
  }

  /** The Secret key with a full `postgresql://` URL (includes the password: secret only). */
  urlRef(): SecretKeyRef {
    return this.credentials.ref("url");
  }
}

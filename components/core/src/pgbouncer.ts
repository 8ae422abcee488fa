import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { annotations as keys } from "./conventions";
import { ValidationError, throwIfInvalid } from "./errors";
import { NetworkPeer } from "./network";
import { ResourceSpec } from "./resources";
import { Workload } from "./workload";

export const poolModes = ["session", "transaction"] as const;
export type PoolMode = (typeof poolModes)[number];

export interface PgBouncerArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** Full image reference (a PgBouncer image whose binary is /usr/bin/pgbouncer). */
  image: string;
  /** @default "pgbouncer" */
  appName?: string;
  resources: ResourceSpec;
  /** The PostgreSQL server's app name (its Service in the same namespace). */
  serverApp: string;
  /** The database id it pools for (`keel.dev/db-pools`), e.g. `Postgres.databaseId`. */
  databaseId: string;
  database: string;
  user: string;
  /** The role's password (a secret output); written only into the pooler's own Secret. */
  password: pulumi.Input<string>;
  /** The password's rotation (its GeneratedSecret's): a new one restarts the pooler. @default 0 */
  rotation?: number;
  /** Synapse needs session pooling (it sets session-level parameters). @default "session" */
  poolMode?: PoolMode;
  /** Server connections per replica; Σ(pool × replicas) must fit the database's budget. */
  poolSize: number;
  /** Client connections each replica accepts. @default 4 × poolSize */
  maxClientConnections?: number;
  /** @default 2 */
  replicas?: number;
  /** Who may connect on 5432. @default [] */
  allowFrom?: NetworkPeer[];
  /** A node maintenance window: a single replica's budget lets drains evict it. @default false */
  maintenance?: boolean;
}

export function validatePgBouncerArgs(args: PgBouncerArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  const mode = args.poolMode ?? "session";
  if (!poolModes.includes(mode)) {
    problems.push(new ValidationError("poolMode", `must be one of ${poolModes.join(", ")}, got "${mode}"`));
  }
  if (!Number.isInteger(args.poolSize) || args.poolSize < 1 || args.poolSize > 1000) {
    problems.push(new ValidationError("poolSize", `must be an integer from 1 to 1000, got ${args.poolSize}`));
  }
  const clients = args.maxClientConnections ?? args.poolSize * 4;
  if (!Number.isInteger(clients) || clients < args.poolSize) {
    problems.push(
      new ValidationError(
        "maxClientConnections",
        `must be an integer ≥ poolSize (${args.poolSize}), got ${clients}`,
      ),
    );
  }
  const replicas = args.replicas ?? 2;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 10) {
    problems.push(new ValidationError("replicas", `must be an integer from 1 to 10, got ${replicas}`));
  }
  return problems;
}

/** pgbouncer.ini: one database, one role, auth from the userlist Secret, no admin console exposed. */
export function renderPgBouncerIni(c: {
  serverHost: string;
  database: string;
  user: string;
  poolMode: PoolMode;
  poolSize: number;
  maxClientConnections: number;
}): string {
  return [
    "[databases]",
    `${c.database} = host=${c.serverHost} port=5432 dbname=${c.database} user=${c.user}`,
    "",
    "[pgbouncer]",
    "listen_addr = 0.0.0.0",
    "listen_port = 5432",
    "unix_socket_dir =",
    "auth_type = scram-sha-256",
    "auth_file = /etc/pgbouncer/auth/userlist.txt",
    `pool_mode = ${c.poolMode}`,
    `default_pool_size = ${c.poolSize}`,
    `max_db_connections = ${c.poolSize}`,
    `max_client_conn = ${c.maxClientConnections}`,
    "server_reset_query = DISCARD ALL",
    "ignore_startup_parameters = extra_float_digits,options",
    "server_check_query = select 1",
    "log_connections = 0",
    "log_disconnections = 0",
    "",
  ].join("\n");
}

/**
 * PgBouncer in front of one PostgreSQL database. Its pool is what the database sees: the pooler carries
 * `keel.dev/db-pools` so the policy pack checks pool × replicas against max_connections.
 */
export class PgBouncer extends pulumi.ComponentResource {
  readonly host: pulumi.Output<string>;
  readonly port = 5432;

  constructor(name: string, args: PgBouncerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:PgBouncer", name, {}, opts);
    throwIfInvalid(validatePgBouncerArgs(args));
    const app = args.appName ?? "pgbouncer";
    const poolMode = args.poolMode ?? "session";

    const auth = new k8s.core.v1.Secret(
      `${name}-auth`,
      {
        metadata: { name: `${app}-auth`, namespace: args.namespace },
        stringData: {
          "userlist.txt": pulumi.secret(pulumi.interpolate`"${args.user}" "${args.password}"\n`),
        },
      },
      { parent: this, additionalSecretOutputs: ["stringData", "data"] },
    );

    const check = { tcp: { port: 5432 } };
    const server = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: app,
        partOf: args.partOf,
        image: args.image,
        command: ["/usr/bin/pgbouncer", "/etc/pgbouncer/config/pgbouncer.ini"],
        replicas: args.replicas ?? 2,
        resources: args.resources,
        probes: {
          startup: { ...check, periodSeconds: 2, failureThreshold: 15, timeoutSeconds: 2 },
          readiness: { ...check, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 },
          liveness: { ...check, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
        },
        ports: [{ name: "postgres", port: 5432 }],
        runAsUser: 998,
        configFiles: [
          {
            name: "config",
            mountPath: "/etc/pgbouncer/config",
            files: {
              "pgbouncer.ini": renderPgBouncerIni({
                serverHost: args.serverApp,
                database: args.database,
                user: args.user,
                poolMode,
                poolSize: args.poolSize,
                maxClientConnections: args.maxClientConnections ?? args.poolSize * 4,
              }),
            },
          },
        ],
        secretFiles: [
          {
            name: "auth",
            mountPath: "/etc/pgbouncer/auth",
            secretName: auth.metadata.name,
            rotation: args.rotation,
          },
        ],
        critical: true,
        maintenance: args.maintenance,
        allowFrom: args.allowFrom,
        egressTo: [{ app: args.serverApp, ports: [5432] }],
        annotations: { [keys.dbPools]: `${args.databaseId}=${args.poolSize}` },
      },
      { parent: this },
    );
    this.host = server.serviceName;
    this.registerOutputs({ host: this.host });
  }
}

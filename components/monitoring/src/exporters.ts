import {
  ImageResolver,
  SecretKeyRef,
  SizingProfile,
  ValidationError,
  Workload,
  standardProbes,
  throwIfInvalid,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { metricsAnnotations, scrapedBy } from "./contract";
import { monitoringSize } from "./sizes";

export const postgresExporterPort = 9187;
export const redisExporterPort = 9121;

/** The app name of an exporter next to `serverApp` (what the server's `allowFrom` must let in). */
export function exporterAppName(serverApp: string): string {
  return `${serverApp}-exporter`;
}

export interface PostgresExporterArgs {
  /** The namespace of the database (the exporter runs next to it). */
  namespace: pulumi.Input<string>;
  partOf: string;
  images: ImageResolver;
  sizing: SizingProfile;
  /** In-namespace host name of the server, e.g. `Postgres.host`. */
  host: pulumi.Input<string>;
  /** @default 5432 */
  port?: number;
  /** The database to connect to. */
  database: string;
  /** The role the exporter logs in as (grant it `pg_monitor` for every statistic). */
  user: string;
  /** The role's password, from a Secret (never a literal). */
  password: SecretKeyRef;
  /** The server's app label, for the exporter's egress. @default "postgres" */
  serverApp?: string;
  /** @default "disable" (in-cluster traffic to a server without TLS) */
  sslMode?: "disable" | "require" | "verify-ca" | "verify-full";
  /** The namespace Prometheus runs in; it is let in on the metrics port. @default "monitoring" */
  monitoringNamespace?: string;
  /** @default "<serverApp>-exporter" */
  appName?: string;
}

const sqlIdentifier = /^[a-z_][a-z0-9_]{0,62}$/;

function validPort(field: string, port: number | undefined): ValidationError[] {
  return port === undefined || (Number.isInteger(port) && port > 0 && port < 65536)
    ? []
    : [new ValidationError(field, `must be a port from 1 to 65535, got ${port}`)];
}

export function validatePostgresExporterArgs(args: PostgresExporterArgs): ValidationError[] {
  const problems = validPort("port", args.port);
  for (const field of ["database", "user"] as const) {
    if (!sqlIdentifier.test(args[field] ?? "")) {
      problems.push(new ValidationError(field, `"${args[field]}" must be a lower-case SQL identifier`));
    }
  }
  if (!args.password?.key) problems.push(new ValidationError("password", "must reference a Secret key"));
  const modes = ["disable", "require", "verify-ca", "verify-full"];
  if (args.sslMode !== undefined && !modes.includes(args.sslMode)) {
    problems.push(
      new ValidationError("sslMode", `must be one of ${modes.join(", ")}, got "${args.sslMode}"`),
    );
  }
  return problems;
}

/**
 * postgres-exporter next to a PostgreSQL server: the DSN is assembled by the exporter from
 * `DATA_SOURCE_URI` (host, port, database, no credential), `DATA_SOURCE_USER` and `DATA_SOURCE_PASS` (from the
 * Secret). Carries the metrics annotations, lets Prometheus in and talks only to its server.
 */
export class PostgresExporter extends pulumi.ComponentResource {
  readonly appName: string;
  readonly metricsPort = postgresExporterPort;
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: PostgresExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:monitoring:PostgresExporter", name, {}, opts);
    throwIfInvalid(validatePostgresExporterArgs(args));
    const serverApp = args.serverApp ?? "postgres";
    const port = args.port ?? 5432;
    this.appName = args.appName ?? exporterAppName(serverApp);
    const workload = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: this.appName,
        partOf: args.partOf,
        image: args.images.image("postgresExporter"),
        resources: monitoringSize(args.sizing, "postgresExporter"),
        probes: standardProbes({ tcp: { port: postgresExporterPort } }, 10),
        ports: [{ name: "metrics", port: postgresExporterPort }],
        env: {
          DATA_SOURCE_URI: pulumi.interpolate`${args.host}:${port}/${args.database}?sslmode=${args.sslMode ?? "disable"}`,
          DATA_SOURCE_USER: args.user,
        },
        secretEnv: { DATA_SOURCE_PASS: args.password },
        runAsUser: 65534,
        podAnnotations: metricsAnnotations(postgresExporterPort),
        allowFrom: [scrapedBy(args.monitoringNamespace, [postgresExporterPort])],
        egressTo: [{ app: serverApp, ports: [port] }],
      },
      { parent: this },
    );
    this.serviceName = workload.serviceName;
    this.registerOutputs({ serviceName: this.serviceName });
  }
}

export interface RedisExporterArgs {
  /** The namespace of the Redis server (the exporter runs next to it). */
  namespace: pulumi.Input<string>;
  partOf: string;
  images: ImageResolver;
  sizing: SizingProfile;
  /** In-namespace host name of the server, e.g. `Redis.host`. */
  host: pulumi.Input<string>;
  /** @default 6379 */
  port?: number;
  /** The server's password, from a Secret (never a literal). */
  password: SecretKeyRef;
  /** The server's app label, for the exporter's egress. @default "redis" */
  serverApp?: string;
  /** The namespace Prometheus runs in; it is let in on the metrics port. @default "monitoring" */
  monitoringNamespace?: string;
  /** @default "<serverApp>-exporter" */
  appName?: string;
}

export function validateRedisExporterArgs(args: RedisExporterArgs): ValidationError[] {
  const problems = validPort("port", args.port);
  if (!args.password?.key) problems.push(new ValidationError("password", "must reference a Secret key"));
  return problems;
}

/** redis_exporter next to a Redis server: `REDIS_ADDR` without credential, `REDIS_PASSWORD` from the Secret. */
export class RedisExporter extends pulumi.ComponentResource {
  readonly appName: string;
  readonly metricsPort = redisExporterPort;
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: RedisExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:monitoring:RedisExporter", name, {}, opts);
    throwIfInvalid(validateRedisExporterArgs(args));
    const serverApp = args.serverApp ?? "redis";
    const port = args.port ?? 6379;
    this.appName = args.appName ?? exporterAppName(serverApp);
    const workload = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: this.appName,
        partOf: args.partOf,
        image: args.images.image("redisExporter"),
        resources: monitoringSize(args.sizing, "redisExporter"),
        probes: standardProbes({ http: { path: "/health", port: redisExporterPort } }, 10),
        ports: [{ name: "metrics", port: redisExporterPort }],
        env: { REDIS_ADDR: pulumi.interpolate`redis://${args.host}:${port}` },
        secretEnv: { REDIS_PASSWORD: args.password },
        // The image's own user (scratch image, uid 59000).
        runAsUser: 59000,
        podAnnotations: metricsAnnotations(redisExporterPort),
        allowFrom: [scrapedBy(args.monitoringNamespace, [redisExporterPort])],
        egressTo: [{ app: serverApp, ports: [port] }],
      },
      { parent: this },
    );
    this.serviceName = workload.serviceName;
    this.registerOutputs({ serviceName: this.serviceName });
  }
}

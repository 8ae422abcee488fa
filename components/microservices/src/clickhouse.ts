import {
  BackupPolicy,
  GeneratedSecret,
  NetworkPeer,
  ResourceSpec,
  ScheduledBackup,
  Workload,
  parseMemory,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";

/**
 * The server settings (config.d), rendered in a fixed order: memory bounded by the container limit (80 %),
 * caches a tenth of it, logs to the console. Users and passwords are not here (the image's entrypoint
 * writes the application user from CLICKHOUSE_USER / CLICKHOUSE_PASSWORD, a Secret).
 */
export function renderClickhouseConfig(memoryLimitBytes: number): string {
  const maxServer = Math.floor(memoryLimitBytes * 0.8);
  const cache = Math.floor(memoryLimitBytes * 0.1);
  return [
    "<!-- rendered by keel -->",
    "<clickhouse>",
    "  <listen_host>0.0.0.0</listen_host>",
    "  <http_port>8123</http_port>",
    "  <tcp_port>9000</tcp_port>",
    "  <logger>",
    "    <level>information</level>",
    "    <console>1</console>",
    '    <log remove="1"/>',
    '    <errorlog remove="1"/>',
    "  </logger>",
    `  <max_server_memory_usage>${maxServer}</max_server_memory_usage>`,
    `  <mark_cache_size>${cache}</mark_cache_size>`,
    `  <uncompressed_cache_size>${cache}</uncompressed_cache_size>`,
    "  <max_concurrent_queries>100</max_concurrent_queries>",
    "</clickhouse>",
    "",
  ].join("\n");
}

/**
 * The dump script: for every table of the database, its CREATE statement and its rows (Native format,
 * gzip) into a dated directory, renamed when complete; then keeps the newest $RETAIN dumps.
 */
export function clickhouseDumpScript(): string {
  return [
    "set -euo pipefail",
    'ch() { clickhouse-client --host "$SERVER" --port 9000 --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" "$@"; }',
    'dir="/backups/${CLICKHOUSE_DB}-$(date -u +%Y%m%dT%H%M%SZ)"',
    'mkdir -p "${dir}.partial"',
    'for t in $(ch --query "SHOW TABLES FROM ${CLICKHOUSE_DB}"); do',
    '  ch --query "SHOW CREATE TABLE ${CLICKHOUSE_DB}.\\`${t}\\`" --format TSVRaw > "${dir}.partial/${t}.sql"',
    '  ch --query "SELECT * FROM ${CLICKHOUSE_DB}.\\`${t}\\` FORMAT Native" | gzip > "${dir}.partial/${t}.native.gz"',
    "done",
    'mv "${dir}.partial" "${dir}"',
    'ls -1dt /backups/${CLICKHOUSE_DB}-* | grep -v partial | tail -n +"$((RETAIN + 1))" | xargs -r rm -rf --',
    'echo "dump ${dir} written; kept: $(ls -1d /backups/${CLICKHOUSE_DB}-* | wc -l)"',
  ].join("\n");
}

export interface ClickHouseArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  image: string;
  resources: ResourceSpec;
  storageClass: string;
  /** @default "20Gi" */
  storageSize?: string;
  /** The application database and user. @default "audit" */
  database?: string;
  allowFrom?: NetworkPeer[];
  /** Dump schedule, retention and volume. */
  backup: BackupPolicy;
  /** @default false */
  protect?: boolean;
  /** @default 0 */
  rotation?: number;
  /** A node maintenance window: the single pod's budget lets drains evict it. @default false */
  maintenance?: boolean;
}

/** ClickHouse (official image, pinned) as a StatefulSet running as uid 101, probed on /ping. */
export class ClickHouse extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  /** The HTTP port clients connect to. */
  readonly port = 8123;
  readonly database: string;
  readonly credentials: GeneratedSecret;

  constructor(name: string, args: ClickHouseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:microservices:ClickHouse", name, {}, opts);
    this.database = args.database ?? "audit";
    const conf = renderClickhouseConfig(parseMemory(args.resources.limits.memory));
    this.credentials = new GeneratedSecret(
      `${name}-credentials`,
      {
        namespace: args.namespace,
        secretName: "clickhouse-credentials",
        generate: { password: { length: 32 } },
        rotation: args.rotation,
      },
      { parent: this },
    );
    const ping = { http: { path: "/ping", port: this.port } };
    const server = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: "clickhouse",
        partOf: args.partOf,
        kind: "StatefulSet",
        image: args.image,
        resources: args.resources,
        bootSeconds: 60,
        probes: {
          startup: { ...ping, periodSeconds: 5, failureThreshold: 24, timeoutSeconds: 3 },
          readiness: { ...ping, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
          liveness: { ...ping, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
        },
        ports: [
          { name: "http", port: this.port },
          { name: "native", port: 9000 },
        ],
        env: {
          CLICKHOUSE_DB: this.database,
          CLICKHOUSE_USER: this.database,
          CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT: "0",
        },
        secretEnv: { CLICKHOUSE_PASSWORD: this.credentials.ref("password") },
        runAsUser: 101,
        persistentVolumes: [
          {
            name: "data",
            mountPath: "/var/lib/clickhouse",
            size: args.storageSize ?? "20Gi",
            storageClass: args.storageClass,
          },
        ],
        scratchVolumes: [
          // The entrypoint writes the application user here at start.
          { name: "users", mountPath: "/etc/clickhouse-server/users.d", sizeLimit: "1Mi" },
          { name: "logs", mountPath: "/var/log/clickhouse-server", sizeLimit: "256Mi" },
        ],
        configFiles: [
          {
            name: "config",
            mountPath: "/etc/clickhouse-server/config.d",
            files: { "keel.xml": conf },
          },
        ],
        critical: true,
        maintenance: args.maintenance,
        terminationGracePeriodSeconds: 120,
        allowFrom: [...(args.allowFrom ?? []), { app: "clickhouse-backup", ports: [9000] }],
        annotations: { "keel.dev/database": `${args.partOf}/clickhouse` },
      },
      { parent: this, protect: args.protect ?? false },
    );
    this.url = pulumi.interpolate`http://${server.serviceName}:${this.port}`;
    new ScheduledBackup(
      `${name}-backup`,
      {
        namespace: args.namespace,
        partOf: args.partOf,
        databaseId: `${args.partOf}/clickhouse`,
        serverApp: "clickhouse",
        serverPorts: [9000],
        image: args.image,
        runAsUser: 101,
        script: clickhouseDumpScript(),
        env: { CLICKHOUSE_DB: this.database, CLICKHOUSE_USER: this.database },
        secretEnv: { CLICKHOUSE_PASSWORD: this.credentials.ref("password") },
        policy: args.backup,
      },
      { parent: this, dependsOn: [server] },
    );
    this.registerOutputs({ url: this.url, credentials: this.credentials.secretName });
  }

  passwordRef() {
    return this.credentials.ref("password");
  }
}

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

/** Heap and page cache for a memory limit: 40 % heap (Xms = Xmx), 30 % page cache, the rest native and OS. */
export function neo4jMemory(memoryLimitBytes: number): { heapMb: number; pageCacheMb: number } {
  const mb = memoryLimitBytes / 1024 ** 2;
  return { heapMb: Math.floor(mb * 0.4), pageCacheMb: Math.floor(mb * 0.3) };
}

/** Bolt worker threads: the ceiling for the sum of all clients' driver pools. */
export const neo4jBoltThreads = 400;

/**
 * neo4j.conf, rendered in a fixed order. Plugins load from the image's bundled `labs` directory (APOC core
 * ships there), so nothing is downloaded at start and the install works air-gapped.
 */
export function renderNeo4jConf(memoryLimitBytes: number): string {
  const { heapMb, pageCacheMb } = neo4jMemory(memoryLimitBytes);
  const settings: [string, string | number][] = [
    ["server.default_listen_address", "0.0.0.0"],
    ["server.directories.data", "/data"],
    ["server.directories.logs", "/logs"],
    ["server.directories.plugins", "/var/lib/neo4j/labs"],
    ["server.directories.run", "/var/lib/neo4j/run"],
    ["server.logs.config", "/var/lib/neo4j/conf/server-logs.xml"],
    ["server.logs.user.config", "/var/lib/neo4j/conf/user-logs.xml"],
    ["server.memory.heap.initial_size", `${heapMb}m`],
    ["server.memory.heap.max_size", `${heapMb}m`],
    ["server.memory.pagecache.size", `${pageCacheMb}m`],
    ["server.bolt.enabled", "true"],
    ["server.bolt.thread_pool_max_size", neo4jBoltThreads],
    ["server.http.enabled", "true"],
    ["server.https.enabled", "false"],
    ["dbms.security.auth_enabled", "true"],
    ["dbms.usage_report.enabled", "false"],
    ["server.jvm.additional", "-XX:+ExitOnOutOfMemoryError"],
  ];
  return ["# rendered by keel", ...settings.map(([k, v]) => `${k}=${v}`)].join("\n") + "\n";
}

/** Sets the initial password on first start (a no-op afterwards), then runs Neo4j in the foreground. */
export const neo4jStartScript = [
  "set -eu",
  'neo4j-admin dbms set-initial-password "$NEO4J_PASSWORD" >/dev/null 2>&1 || true',
  "exec neo4j console",
].join("\n");

/**
 * The dump script: streams the whole graph as Cypher statements through APOC (bundled, no download) into a
 * gzip file, then keeps the newest $RETAIN dumps. Neo4j Community has no online backup; this is its
 * consistent-enough online export. cypher-shell reads NEO4J_USERNAME / NEO4J_PASSWORD from the environment.
 */
export function neo4jDumpScript(): string {
  return [
    "set -euo pipefail",
    'file="/backups/graph-$(date -u +%Y%m%dT%H%M%SZ).cypher.gz"',
    'cypher-shell -a "bolt://${SERVER}:7687" --format plain \\',
    `  "CALL apoc.export.cypher.all(null, {stream: true, format: 'plain'}) YIELD cypherStatements RETURN cypherStatements" \\`,
    '  | gzip > "${file}.partial"',
    'mv "${file}.partial" "${file}"',
    'ls -1t /backups/*.cypher.gz | tail -n +"$((RETAIN + 1))" | xargs -r rm -f --',
    'echo "dump ${file} written; kept: $(ls /backups/*.cypher.gz | wc -l)"',
  ].join("\n");
}

export interface Neo4jArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  image: string;
  resources: ResourceSpec;
  storageClass: string;
  /** @default "30Gi" */
  storageSize?: string;
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

/**
 * Neo4j Community as a StatefulSet with a rendered configuration (explicit heap and page cache, offline
 * plugins), a generated password and Bolt probes.
 */
export class Neo4j extends pulumi.ComponentResource {
  readonly uri: pulumi.Output<string>;
  /** The Bolt port clients connect to. */
  readonly boltPort = 7687;
  readonly credentials: GeneratedSecret;

  constructor(name: string, args: Neo4jArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:osint:Neo4j", name, {}, opts);
    const conf = renderNeo4jConf(parseMemory(args.resources.limits.memory));
    this.credentials = new GeneratedSecret(
      `${name}-credentials`,
      {
        namespace: args.namespace,
        secretName: "neo4j-credentials",
        generate: {
          password: {
            length: 32,
            neverRotated:
              "neo4j-admin sets the initial password only before the first start; the data keeps the first one",
          },
        },
        rotation: args.rotation,
      },
      { parent: this },
    );
    const bolt = { tcp: { port: this.boltPort } };
    const server = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: "neo4j",
        partOf: args.partOf,
        kind: "StatefulSet",
        image: args.image,
        command: ["bash", "-c", neo4jStartScript],
        resources: args.resources,
        bootSeconds: 120,
        probes: {
          startup: { ...bolt, periodSeconds: 10, failureThreshold: 18, timeoutSeconds: 5 },
          readiness: { ...bolt, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
          liveness: { ...bolt, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
        },
        ports: [
          { name: "http", port: 7474 },
          { name: "bolt", port: this.boltPort },
        ],
        env: { NEO4J_CONF: "/config" },
        secretEnv: { NEO4J_PASSWORD: this.credentials.ref("password") },
        runAsUser: 7474,
        persistentVolumes: [
          {
            name: "data",
            mountPath: "/data",
            size: args.storageSize ?? "30Gi",
            storageClass: args.storageClass,
          },
        ],
        scratchVolumes: [
          { name: "logs", mountPath: "/logs", sizeLimit: "512Mi" },
          { name: "run", mountPath: "/var/lib/neo4j/run", sizeLimit: "16Mi" },
        ],
        configFiles: [{ name: "config", mountPath: "/config", files: { "neo4j.conf": conf } }],
        critical: true,
        maintenance: args.maintenance,
        terminationGracePeriodSeconds: 120,
        allowFrom: [...(args.allowFrom ?? []), { app: "neo4j-backup", ports: [this.boltPort] }],
        annotations: { "keel.dev/database": `${args.partOf}/neo4j` },
      },
      { parent: this, protect: args.protect ?? false },
    );
    new ScheduledBackup(
      `${name}-backup`,
      {
        namespace: args.namespace,
        partOf: args.partOf,
        databaseId: `${args.partOf}/neo4j`,
        serverApp: "neo4j",
        serverPorts: [this.boltPort],
        image: args.image,
        runAsUser: 7474,
        script: neo4jDumpScript(),
        env: { NEO4J_USERNAME: "neo4j" },
        secretEnv: { NEO4J_PASSWORD: this.credentials.ref("password") },
        policy: args.backup,
      },
      { parent: this, dependsOn: [server] },
    );
    this.uri = pulumi.interpolate`bolt://${server.serviceName}:${this.boltPort}`;
    this.registerOutputs({ uri: this.uri, credentials: this.credentials.secretName });
  }

  passwordRef() {
    return this.credentials.ref("password");
  }
}

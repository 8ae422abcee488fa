import {
  BackupPolicy,
  GeneratedSecret,
  ScheduledBackup,
  NetworkPeer,
  ResourceSpec,
  ValidationError,
  Workload,
  appLabels,
  parseMemory,
  throwIfInvalid,
  toK8sResources,
  toPolicyPeer,
} from "@keel/core";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

const MiB = 1024 ** 2;

/**
 * The JVM heap for a memory limit (F15): half of it, the rest left to Lucene's file cache and off-heap
 * memory, capped below 31 GiB so compressed object pointers stay on. Xms = Xmx avoids resize pauses.
 */
export function elasticsearchHeapMb(memoryLimitBytes: number): number {
  return Math.min(31 * 1024, Math.floor((memoryLimitBytes / MiB) * 0.5));
}

/** ES_JAVA_OPTS for a memory limit. */
export function elasticsearchJavaOpts(memoryLimitBytes: number): string {
  const heap = elasticsearchHeapMb(memoryLimitBytes);
  return `-Xms${heap}m -Xmx${heap}m -XX:+ExitOnOutOfMemoryError`;
}

/**
 * Node settings passed as environment (the image turns dotted variables into `-E` options). Memory-mapped
 * store access is off so the node needs no `vm.max_map_count` sysctl and no privileged init container.
 */
export function elasticsearchSettings(clusterName: string): Record<string, string> {
  return {
    "cluster.name": clusterName,
    "discovery.type": "single-node",
    "node.store.allow_mmap": "false",
    "bootstrap.memory_lock": "false",
    "xpack.security.enabled": "true",
    "xpack.security.http.ssl.enabled": "false",
    "xpack.security.transport.ssl.enabled": "false",
    "xpack.ml.enabled": "false",
    "ingest.geoip.downloader.enabled": "false",
  };
}

export interface ElasticsearchArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  image: string;
  resources: ResourceSpec;
  storageClass: string;
  /** @default "50Gi" */
  storageSize?: string;
  /** @default "osint" */
  clusterName?: string;
  /** Who may connect on 9200 (the setup job and Kibana are added). @default [] */
  allowFrom?: NetworkPeer[];
  /** Resources of the one-shot setup job. */
  setupResources: ResourceSpec;
  /** Snapshot schedule and retention; snapshots go to a volume of this class on the node. */
  backup: BackupPolicy;
  /** @default false */
  protect?: boolean;
  /** @default 0 */
  rotation?: number;
}

export function validateElasticsearchArgs(args: ElasticsearchArgs): ValidationError[] {
  const limit = parseMemory(args.resources.limits.memory, "resources.limits.memory");
  if (elasticsearchHeapMb(limit) < 512) {
    return [new ValidationError("resources.limits.memory", "Elasticsearch needs a limit of at least 1Gi")];
  }
  return [];
}

/** The setup script: waits for the cluster, then sets the kibana_system password and the app's role and user. */
export function elasticsearchSetupScript(): string {
  return [
    "set -eu",
    'es="http://elasticsearch:9200"',
    'auth="elastic:${ELASTIC_PASSWORD}"',
    'until curl -fsS -u "$auth" "$es/_cluster/health?wait_for_status=yellow&timeout=10s" >/dev/null; do sleep 5; done',
    `curl -fsS -u "$auth" -H 'Content-Type: application/json' -X POST "$es/_security/user/kibana_system/_password" -d "{\\"password\\":\\"\${KIBANA_SYSTEM_PASSWORD}\\"}"`,
    `curl -fsS -u "$auth" -H 'Content-Type: application/json' -X PUT "$es/_security/role/osint_writer" -d '{"cluster":["monitor","manage_index_templates","manage_ilm"],"indices":[{"names":["osint-*"],"privileges":["all"]}]}'`,
    `curl -fsS -u "$auth" -H 'Content-Type: application/json' -X PUT "$es/_security/user/osint" -d "{\\"password\\":\\"\${OSINT_PASSWORD}\\",\\"roles\\":[\\"osint_writer\\"]}"`,
    'echo "elasticsearch users ready"',
  ].join("\n");
}

/** Where snapshots are written (a volume of the node, registered as an `fs` repository). */
export const snapshotPath = "/usr/share/elasticsearch/backups";

/**
 * The snapshot script: registers the repository (idempotent), takes a snapshot, and deletes all but the
 * newest $RETAIN snapshots.
 */
export function elasticsearchSnapshotScript(): string {
  return [
    "set -eu",
    'es="http://${SERVER}:9200"',
    'auth="elastic:${ELASTIC_PASSWORD}"',
    "json='Content-Type: application/json'",
    `curl -fsS -u "$auth" -H "$json" -X PUT "$es/_snapshot/backups" -d '{"type":"fs","settings":{"location":"${snapshotPath}"}}' >/dev/null`,
    'snap="snapshot-$(date -u +%Y%m%dt%H%M%Sz)"',
    `curl -fsS -u "$auth" -H "$json" -X PUT "$es/_snapshot/backups/$snap?wait_for_completion=true" -d '{"indices":"*","include_global_state":true}' >/dev/null`,
    'curl -fsS -u "$auth" "$es/_cat/snapshots/backups?h=id&s=end_epoch:desc" | tail -n +"$((RETAIN + 1))" |',
    '  while read -r old; do curl -fsS -u "$auth" -X DELETE "$es/_snapshot/backups/$old" >/dev/null; done',
    'echo "snapshot $snap taken; kept: $(curl -fsS -u "$auth" "$es/_cat/snapshots/backups?h=id" | wc -l)"',
  ].join("\n");
}

/**
 * Single-node Elasticsearch as a StatefulSet: explicit heap, no mmap (no sysctl), security on with generated
 * passwords for `elastic`, `kibana_system` and the application user, set by a one-shot job.
 */
export class Elasticsearch extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly credentials: GeneratedSecret;

  constructor(name: string, args: ElasticsearchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:osint:Elasticsearch", name, {}, opts);
    throwIfInvalid(validateElasticsearchArgs(args));
    const child = { parent: this };
    const limit = parseMemory(args.resources.limits.memory);

    this.credentials = new GeneratedSecret(
      `${name}-credentials`,
      {
        namespace: args.namespace,
        secretName: "elasticsearch-credentials",
        generate: {
          "elastic-password": { length: 32 },
          "kibana-system-password": { length: 32 },
          "osint-password": { length: 32 },
        },
        rotation: args.rotation,
      },
      child,
    );

    const health = {
      exec: {
        command: [
          "bash",
          "-c",
          'curl -fsS -u "elastic:${ELASTIC_PASSWORD}" "http://127.0.0.1:9200/_cluster/health?local=true" | grep -qv \'"status":"red"\'',
        ],
      },
    };
    // The image writes its keystore into the config directory: copy the shipped config to a writable
    // emptyDir first (what ECK's init container does), then run the usual entrypoint.
    const confDir = "/usr/share/elasticsearch/runtime-config";
    const server = new Workload(
      name,
      {
        namespace: args.namespace,
        appName: "elasticsearch",
        partOf: args.partOf,
        kind: "StatefulSet",
        image: args.image,
        command: [
          "bash",
          "-c",
          `cp -a /usr/share/elasticsearch/config/. ${confDir}/ && exec /bin/tini -- /usr/local/bin/docker-entrypoint.sh eswrapper`,
        ],
        resources: args.resources,
        bootSeconds: 120,
        probes: {
          startup: { tcp: { port: 9200 }, periodSeconds: 10, failureThreshold: 18, timeoutSeconds: 5 },
          readiness: { ...health, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
          liveness: { tcp: { port: 9200 }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
        },
        ports: [
          { name: "http", port: 9200 },
          { name: "transport", port: 9300, expose: false },
        ],
        env: {
          ...elasticsearchSettings(args.clusterName ?? "osint"),
          ES_JAVA_OPTS: elasticsearchJavaOpts(limit),
          ES_PATH_CONF: confDir,
          ES_TMPDIR: "/tmp",
          "path.repo": snapshotPath,
        },
        secretEnv: { ELASTIC_PASSWORD: this.credentials.ref("elastic-password") },
        runAsUser: 1000,
        persistentVolumes: [
          {
            name: "data",
            mountPath: "/usr/share/elasticsearch/data",
            size: args.storageSize ?? "50Gi",
            storageClass: args.storageClass,
          },
          {
            name: "backups",
            mountPath: snapshotPath,
            size: args.backup.size ?? "20Gi",
            storageClass: args.backup.storageClass,
          },
        ],
        scratchVolumes: [
          { name: "config", mountPath: confDir, sizeLimit: "32Mi" },
          { name: "logs", mountPath: "/usr/share/elasticsearch/logs", sizeLimit: "512Mi" },
        ],
        critical: true,
        terminationGracePeriodSeconds: 180,
        allowFrom: [
          ...(args.allowFrom ?? []),
          { app: "kibana" },
          { app: "elasticsearch-setup" },
          { app: "elasticsearch-backup" },
        ],
        annotations: { "keel.dev/database": `${args.partOf}/elasticsearch` },
      },
      { parent: this, protect: args.protect ?? false },
    );
    this.url = pulumi.interpolate`http://${server.serviceName}:9200`;
    this.setupJob(name, args, server);
    new ScheduledBackup(
      `${name}-backup`,
      {
        namespace: args.namespace,
        partOf: args.partOf,
        databaseId: `${args.partOf}/elasticsearch`,
        serverApp: "elasticsearch",
        serverPorts: [9200],
        image: args.image,
        runAsUser: 1000,
        script: elasticsearchSnapshotScript(),
        secretEnv: { ELASTIC_PASSWORD: this.credentials.ref("elastic-password") },
        policy: args.backup,
        // The node writes the snapshots to its own backups volume; the job only drives the API.
        volume: false,
      },
      { parent: this, dependsOn: [server] },
    );
    this.registerOutputs({ url: this.url, credentials: this.credentials.secretName });
  }

  private setupJob(name: string, args: ElasticsearchArgs, server: Workload): void {
    const app = "elasticsearch-setup";
    const labels = appLabels(app, args.partOf);
    const meta = { name: app, namespace: args.namespace, labels };
    const child = { parent: this };
    new k8s.networking.v1.NetworkPolicy(
      `${name}-setup-netpol`,
      {
        metadata: meta,
        spec: {
          podSelector: { matchLabels: { "app.kubernetes.io/name": app } },
          policyTypes: ["Ingress", "Egress"],
          ingress: [],
          egress: [
            { to: [toPolicyPeer({ app: "elasticsearch" })], ports: [{ port: 9200, protocol: "TCP" }] },
          ],
        },
      },
      child,
    );
    const secret = (key: string) => ({
      valueFrom: { secretKeyRef: { name: this.credentials.secretName, key } },
    });
    new k8s.batch.v1.Job(
      `${name}-setup`,
      {
        metadata: meta,
        spec: {
          backoffLimit: 6,
          activeDeadlineSeconds: 900,
          ttlSecondsAfterFinished: 7 * 24 * 3600,
          template: {
            // A new rotation re-runs the job (the template changes, so the Job is replaced).
            metadata: { labels, annotations: { "keel.dev/secret-rotation": String(args.rotation ?? 0) } },
            spec: {
              restartPolicy: "OnFailure",
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 1000,
                runAsGroup: 1000,
                fsGroup: 1000,
                seccompProfile: { type: "RuntimeDefault" },
              },
              containers: [
                {
                  name: "setup",
                  image: args.image,
                  command: ["bash", "-c", elasticsearchSetupScript()],
                  env: [
                    { name: "ELASTIC_PASSWORD", ...secret("elastic-password") },
                    { name: "KIBANA_SYSTEM_PASSWORD", ...secret("kibana-system-password") },
                    { name: "OSINT_PASSWORD", ...secret("osint-password") },
                  ],
                  resources: toK8sResources(args.setupResources),
                  securityContext: {
                    runAsNonRoot: true,
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    privileged: false,
                    capabilities: { drop: ["ALL"] },
                    seccompProfile: { type: "RuntimeDefault" },
                  },
                  volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                },
              ],
              volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
            },
          },
        },
      },
      { parent: this, dependsOn: [server] },
    );
  }

  elasticPasswordRef() {
    return this.credentials.ref("elastic-password");
  }

  appPasswordRef() {
    return this.credentials.ref("osint-password");
  }

  kibanaPasswordRef() {
    return this.credentials.ref("kibana-system-password");
  }
}

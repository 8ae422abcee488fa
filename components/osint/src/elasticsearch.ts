import {
  BackupPolicy,
  GeneratedSecret,
  NetworkPeer,
  ResourceSpec,
  ScheduledBackup,
  ValidationError,
  Workload,
  parseMemory,
  throwIfInvalid,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import {
  elasticsearchHeapMb,
  elasticsearchJavaOpts,
  elasticsearchSettings,
  elasticsearchSnapshotScript,
  snapshotPath,
} from "./elasticsearch-config";
import { elasticsearchSetupJob } from "./elasticsearch-setup";

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
  /** A node maintenance window: the single pod's budget lets drains evict it. @default false */
  maintenance?: boolean;
}

export function validateElasticsearchArgs(args: ElasticsearchArgs): ValidationError[] {
  const limit = parseMemory(args.resources.limits.memory, "resources.limits.memory");
  if (elasticsearchHeapMb(limit) < 512) {
    return [new ValidationError("resources.limits.memory", "Elasticsearch needs a limit of at least 1Gi")];
  }
  return [];
}

/**
 * Single-node Elasticsearch as a StatefulSet: explicit heap, no mmap (no sysctl), security on with generated
 * passwords for `elastic`, `kibana_system` and the application user, set by a one-shot job.
 */
export class Elasticsearch extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  /** The HTTP port clients connect to. */
  readonly port = 9200;
  readonly credentials: GeneratedSecret;

  constructor(name: string, args: ElasticsearchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:osint:Elasticsearch", name, {}, opts);
    throwIfInvalid(validateElasticsearchArgs(args));
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
      { parent: this },
    );
    const server = this.node(name, args);
    this.url = pulumi.interpolate`http://${server.serviceName}:${this.port}`;
    elasticsearchSetupJob(
      name,
      {
        namespace: args.namespace,
        partOf: args.partOf,
        image: args.image,
        resources: args.setupResources,
        credentials: this.credentials,
        server,
        rotation: args.rotation ?? 0,
      },
      this,
    );
    new ScheduledBackup(
      `${name}-backup`,
      {
        namespace: args.namespace,
        partOf: args.partOf,
        databaseId: `${args.partOf}/elasticsearch`,
        serverApp: "elasticsearch",
        serverPorts: [this.port],
        image: args.image,
        runAsUser: 1000,
        script: elasticsearchSnapshotScript(),
        secretEnv: { ELASTIC_PASSWORD: this.elasticPasswordRef() },
        policy: args.backup,
        // The node writes the snapshots to its own backups volume; the job only drives the API.
        volume: false,
      },
      { parent: this, dependsOn: [server] },
    );
    this.registerOutputs({ url: this.url, credentials: this.credentials.secretName });
  }

  /** The node: data and snapshot volumes, the config copied to a writable scratch volume, health probes. */
  private node(name: string, args: ElasticsearchArgs): Workload {
    const health = {
      exec: {
        command: [
          "bash",
          "-c",
          'curl -fsS -u "elastic:${ELASTIC_PASSWORD}" "http://127.0.0.1:9200/_cluster/health?local=true" | grep -qv \'"status":"red"\'',
        ],
      },
    };
    const tcp = { tcp: { port: this.port } };
    // The image writes its keystore into the config directory: copy the shipped config to a writable
    // emptyDir first (what ECK's init container does), then run the usual entrypoint.
    const confDir = "/usr/share/elasticsearch/runtime-config";
    return new Workload(
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
          startup: { ...tcp, periodSeconds: 10, failureThreshold: 18, timeoutSeconds: 5 },
          readiness: { ...health, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
          liveness: { ...tcp, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
        },
        ports: [
          { name: "http", port: this.port },
          { name: "transport", port: 9300, expose: false },
        ],
        env: {
          ...elasticsearchSettings(args.clusterName ?? "osint"),
          ES_JAVA_OPTS: elasticsearchJavaOpts(parseMemory(args.resources.limits.memory)),
          ES_PATH_CONF: confDir,
          ES_TMPDIR: "/tmp",
          "path.repo": snapshotPath,
        },
        secretEnv: { ELASTIC_PASSWORD: this.elasticPasswordRef() },
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
        maintenance: args.maintenance,
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

import {
  ConfigFiles,
  NetworkPeer,
  ResourceSpec,
  SecretFiles,
  SecretKeyRef,
  SharedVolume,
  Workload,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import {
  DATABASE_PASSWORD_ENV,
  SYNAPSE_MAIN,
  SYNAPSE_PORTS,
  SynapseDatabaseSettings,
  SynapsePoolSizes,
  WORKER_NAME_ENV,
  WorkerGroup,
  defaultSynapseConfigPaths,
  mainCommand,
  renderWorkerConfig,
  workerCommand,
} from "./config";

export interface SynapseProcessesArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  image: string;
  /** The main process's app name. @default "synapse-main" */
  mainApp?: string;
  /** A node maintenance window: the main process's budget lets drains evict it. @default false */
  maintenance?: boolean;
  /** The worker StatefulSets (from `workerGroups`). */
  groups: WorkerGroup[];
  /** Rendered homeserver.yaml and log.yaml, shared by every process. */
  homeserverYaml: string;
  logYaml: string;
  database: SynapseDatabaseSettings;
  poolSizes?: Partial<SynapsePoolSizes>;
  databasePassword: SecretKeyRef;
  /** Secret with `secrets.yaml` (renderSynapseSecretsConfig), the signing key Secret and Redis's. */
  secretsSecretName: pulumi.Input<string>;
  signingKeySecretName: pulumi.Input<string>;
  redisSecretName?: pulumi.Input<string>;
  mainResources: ResourceSpec;
  workerResources: ResourceSpec;
  /** The media store, mounted where the media repository runs (main when there is no media worker). */
  mediaStore: SharedVolume;
  /** Extra files for every process (e.g. the antivirus module and the CA for federation). @default [] */
  extraConfig?: ConfigFiles[];
  /** Extra Secret files for every process (e.g. the private CA for federation). @default [] */
  extraSecretFiles?: SecretFiles[];
  /** Extra environment (e.g. PYTHONPATH for modules). @default {} */
  env?: Record<string, string>;
  /** Extra environment from Secrets (e.g. a module's queue password). @default {} */
  secretEnv?: Record<string, SecretKeyRef>;
  /** Who reaches the client/federation port (HAProxy) and the metrics port (monitoring). */
  httpClients: NetworkPeer[];
  metricsScrapers: NetworkPeer[];
  /** Egress every process needs (PgBouncer, Redis, antivirus …) and federation egress for senders. */
  egressTo: NetworkPeer[];
  federationEgress: NetworkPeer[];
  /** @default false */
  protect?: boolean;
}

const secretsMount = "/secrets";

/**
 * Synapse's processes: the main process and one StatefulSet per worker group, each with a headless Service
 * (stable pod names feed `instance_map`), probes on the health listener, replication reachable only from
 * the other Synapse processes, and an HPA only on stateless readers.
 */
export class SynapseProcesses extends pulumi.ComponentResource {
  /** Every process's app name (`synapse-main`, `synapse-<group>`): HAProxy's backends. */
  readonly apps: string[];

  constructor(name: string, args: SynapseProcessesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:matrix:SynapseProcesses", name, {}, opts);
    const mainApp = args.mainApp ?? SYNAPSE_MAIN.statefulSet;
    const apps = [mainApp, ...args.groups.map((g) => g.statefulSet)];
    this.apps = apps;
    const replicationPeers: NetworkPeer[] = apps.map((app) => ({ app, ports: [SYNAPSE_PORTS.replication] }));
    const hasMediaWorker = args.groups.some((g) => g.type === "media-repository");
    const paths = defaultSynapseConfigPaths;

    const secretFiles: SecretFiles[] = [
      { name: "synapse-secrets", mountPath: `${secretsMount}/synapse`, secretName: args.secretsSecretName },
      { name: "signing", mountPath: `${secretsMount}/signing`, secretName: args.signingKeySecretName },
      ...(args.redisSecretName
        ? [{ name: "redis", mountPath: `${secretsMount}/redis`, secretName: args.redisSecretName }]
        : []),
    ];
    const health = { http: { path: "/health", port: SYNAPSE_PORTS.health } };
    const probes = (bootChecks: number) => ({
      startup: { ...health, periodSeconds: 5, failureThreshold: bootChecks, timeoutSeconds: 3 },
      readiness: { ...health, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 3 },
      liveness: { ...health, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
    });

    const process = (
      id: string,
      app: string,
      p: {
        command: string[];
        files: Record<string, string>;
        replicas: number;
        resources: ResourceSpec;
        http: boolean;
        replication: boolean;
        media: boolean;
        autoscaling?: { minReplicas: number; maxReplicas: number };
        bootSeconds: number;
        federates: boolean;
        critical: boolean;
      },
    ) =>
      new Workload(
        `${name}-${id}`,
        {
          namespace: args.namespace,
          appName: app,
          partOf: args.partOf,
          kind: "StatefulSet",
          image: args.image,
          command: p.command,
          replicas: p.replicas,
          autoscaling: p.autoscaling,
          resources: p.resources,
          probes: probes(Math.ceil(p.bootSeconds / 5)),
          bootSeconds: p.bootSeconds,
          ports: [
            ...(p.http ? [{ name: "http", port: SYNAPSE_PORTS.http }] : []),
            ...(p.replication ? [{ name: "replication", port: SYNAPSE_PORTS.replication }] : []),
            { name: "health", port: SYNAPSE_PORTS.health },
            { name: "metrics", port: SYNAPSE_PORTS.metrics },
          ],
          env: { SYNAPSE_NO_TLS: "1", ...args.env },
          fieldEnv: { [WORKER_NAME_ENV]: "metadata.name" },
          secretEnv: { [DATABASE_PASSWORD_ENV]: args.databasePassword, ...args.secretEnv },
          runAsUser: 991,
          configFiles: [{ name: "conf", mountPath: "/conf", files: p.files }, ...(args.extraConfig ?? [])],
          secretFiles: [...secretFiles, ...(args.extraSecretFiles ?? [])],
          scratchVolumes: [{ name: "instance", mountPath: "/run/synapse", sizeLimit: "1Mi" }],
          sharedVolumes: p.media ? [args.mediaStore] : [],
          critical: p.critical,
          maintenance: args.maintenance,
          publishNotReadyAddresses: true,
          // In-flight requests and replication finish; federation senders flush their queues.
          terminationGracePeriodSeconds: 60,
          allowFrom: [
            ...(p.http ? args.httpClients.map((c) => ({ ...c, ports: [SYNAPSE_PORTS.http] })) : []),
            ...(p.replication ? replicationPeers : []),
            ...args.metricsScrapers.map((c) => ({ ...c, ports: [SYNAPSE_PORTS.metrics] })),
          ],
          egressTo: [...args.egressTo, ...replicationPeers, ...(p.federates ? args.federationEgress : [])],
          podAnnotations: {
            "keel.dev/metrics-port": String(SYNAPSE_PORTS.metrics),
            "keel.dev/metrics-path": "/_synapse/metrics",
          },
        },
        { parent: this, protect: args.protect ?? false },
      );

    process("main", mainApp, {
      command: mainCommand(),
      files: { "homeserver.yaml": args.homeserverYaml, "log.yaml": args.logYaml },
      replicas: 1,
      resources: args.mainResources,
      http: true,
      replication: true,
      media: !hasMediaWorker,
      // Schema migrations run on the main process at start; a major upgrade can take minutes.
      bootSeconds: 600,
      federates: true,
      critical: true,
    });
    for (const g of args.groups) {
      const autoscale = g.autoscalable && g.maxReplicas > g.replicas;
      process(g.name, g.statefulSet, {
        command: workerCommand(g),
        files: {
          "homeserver.yaml": args.homeserverYaml,
          "log.yaml": args.logYaml,
          "worker.yaml": renderWorkerConfig(g, {
            database: args.database,
            poolSizes: args.poolSizes,
            logConfigPath: paths.log,
          }),
        },
        replicas: g.replicas,
        autoscaling: autoscale ? { minReplicas: g.replicas, maxReplicas: g.maxReplicas } : undefined,
        resources: args.workerResources,
        http: g.http,
        replication: g.replication,
        media: g.type === "media-repository",
        bootSeconds: 120,
        federates: ["federation-sender", "media-repository", "federation-reader"].includes(g.type),
        critical: false,
      });
    }
    this.registerOutputs({});
  }
}

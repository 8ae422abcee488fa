import {
  Demand,
  NetworkPeer,
  ProbeSpec,
  SecretKeyRef,
  Workload,
  formatMemory,
  parseMemory,
  throwIfInvalid,
} from "@keel/core";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  AntivirusArgs,
  AntivirusSettings,
  ResolvedAntivirusArgs,
  resolveAntivirusArgs,
  urlHostPort,
  validateAntivirusArgs,
} from "./args";
import {
  clamavPaths,
  clamdPort,
  clamdTmpBytes,
  concurrentReloadFits,
  renderClamdConf,
  renderClamdRunScript,
  renderFreshclamConf,
} from "./clamav-conf";
import { renderScanWorkerScript, scanWorkerFileName } from "./scan-worker-script";
import {
  avCheckerFileName,
  avCheckerModule,
  avCheckerModuleDir,
  avCheckerPasswordEnv,
  renderAvCheckerModule,
} from "./synapse-module";

/** App names (Service names and `app.kubernetes.io/name`), for the Matrix platform's NetworkPolicies. */
export const antivirusApps = { clamd: "clamav", scanWorker: "av-scan-worker" } as const;

/** Seconds clamd needs before it answers: seed copy plus loading ~8M signatures (minutes on a busy node). */
export const clamdBootSeconds = 300;
/** The image's clamav user (Cisco-Talos/clamav-docker 1.5 alpine: NEW_UID=100, NEW_GID=101). */
export const clamavUser = { uid: 100, gid: 101 } as const;
const scanWorkerHealthPort = 8080;
const clamdTimeoutSeconds = 120;
const httpTimeoutSeconds = 60;

/** The module entry for Synapse's `modules:` list. */
export interface AntivirusModuleEntry {
  module: string;
  config: {
    server_name: string;
    clamd_host: string;
    clamd_port: number;
    clamd_timeout_seconds: number;
    sync_max_bytes: number;
    fail_closed: boolean;
    redis_host: string;
    redis_port: number;
    redis_password_env: string;
    stream: string;
  };
}

/** `{ module, config }` for homeserver.yaml's `modules:`; pure, deterministic. */
export function antivirusSynapseModule(args: AntivirusSettings): AntivirusModuleEntry {
  const r = resolveAntivirusArgs(args);
  return {
    module: avCheckerModule,
    config: {
      server_name: args.serverName,
      clamd_host: antivirusApps.clamd,
      clamd_port: clamdPort,
      clamd_timeout_seconds: 60,
      sync_max_bytes: r.syncScanMaxBytes,
      fail_closed: r.failClosed,
      redis_host: args.queue.host,
      redis_port: r.queuePort,
      redis_password_env: avCheckerPasswordEnv,
      stream: r.queueStream,
    },
  };
}

/** Everything the Synapse processes that store media need to load the module. */
export interface AntivirusSynapseIntegration extends AntivirusModuleEntry {
  /** A ConfigMap holding `synapse_av_checker.py`, to mount at `mountPath`. */
  configMapName: pulumi.Output<string>;
  mountPath: string;
  fileName: string;
  /** Set on the Synapse container (append to an existing PYTHONPATH). */
  env: { PYTHONPATH: string };
  /** The Redis password, as `secretEnv`. */
  secretEnv: Record<string, SecretKeyRef>;
  /** Egress the Synapse pods need: clamd and the queue's Redis. */
  egressTo: NetworkPeer[];
}

/** What the antivirus asks of the cluster at full scale (capacity check and the Matrix namespace quota). */
export function antivirusDemand(args: AntivirusSettings): Demand[] {
  const r = resolveAntivirusArgs(args);
  const prefix = r.partOf;
  return [
    { name: `${prefix}/${antivirusApps.clamd}`, replicas: r.clamdReplicas, resources: r.clamdResources },
    {
      name: `${prefix}/${antivirusApps.scanWorker}`,
      replicas: r.workerAutoscaling.maxReplicas,
      resources: r.workerResources,
    },
  ];
}

/** Whether the limit holds a second database during reloads (and freshclam's trial load). */
export function antivirusConcurrentReload(args: AntivirusSettings): boolean {
  const r = resolveAntivirusArgs(args);
  return concurrentReloadFits(parseMemory(r.clamdResources.limits.memory), r.signatureMemoryBytes);
}

function mirrorEgress(args: AntivirusSettings): NetworkPeer[] {
  const s = args.signatureSource;
  if (s.mode === "internet") return [{ cidr: "0.0.0.0/0", ports: [80, 443] }];
  const port = urlHostPort(s.url)!.port;
  return [{ ...s.peer, ports: [port] }];
}

/**
 * ClamAV for Matrix: clamd with freshclam (signatures from the site's mirror when air-gapped), scan workers
 * on a Redis Streams queue that quarantine infected media through Synapse's admin API, and the Synapse
 * module (a ConfigMap) that scans uploads or queues them. Deployed into the Matrix namespace.
 */
export class Antivirus extends pulumi.ComponentResource {
  /** clamd's Service name (port `clamdPort`). */
  readonly clamdHost: pulumi.Output<string>;
  readonly clamdPort = clamdPort;
  /** What the Synapse media processes need: module entry, ConfigMap and mount, env, egress. */
  readonly synapse: AntivirusSynapseIntegration;

  constructor(name: string, args: AntivirusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:matrix:Antivirus", name, {}, opts);
    throwIfInvalid(validateAntivirusArgs(args));
    const r = resolveAntivirusArgs(args);
    const child = { parent: this };

    const clamd = this.clamd(name, args, r);
    this.clamdHost = clamd.serviceName;
    this.scanWorker(name, args, r);

    const moduleFiles = new k8s.core.v1.ConfigMap(
      `${name}-synapse-module`,
      {
        metadata: {
          name: "av-synapse-module",
          namespace: args.namespace,
          labels: { "app.kubernetes.io/name": "av-synapse-module", "app.kubernetes.io/part-of": r.partOf },
        },
        data: { [avCheckerFileName]: renderAvCheckerModule() },
      },
      child,
    );
    this.synapse = {
      ...antivirusSynapseModule(args),
      configMapName: moduleFiles.metadata.name,
      mountPath: avCheckerModuleDir,
      fileName: avCheckerFileName,
      env: { PYTHONPATH: avCheckerModuleDir },
      secretEnv: { [avCheckerPasswordEnv]: args.queue.passwordRef },
      egressTo: [
        { app: antivirusApps.clamd, ports: [clamdPort] },
        { ...r.queuePeer, ports: [r.queuePort] },
      ],
    };
    this.registerOutputs({ clamdHost: this.clamdHost, synapseModuleConfigMap: moduleFiles.metadata.name });
  }

  private clamd(name: string, args: AntivirusArgs, r: ResolvedAntivirusArgs): Workload {
    const concurrent = concurrentReloadFits(
      parseMemory(r.clamdResources.limits.memory),
      r.signatureMemoryBytes,
    );
    const freshclam = (notifyClamd: boolean) =>
      renderFreshclamConf({
        source: args.signatureSource,
        checksPerDay: r.checksPerDay,
        testDatabases: concurrent,
        notifyClamd,
      });
    const ping = { exec: { command: ["clamdscan", "--ping=1"] } };
    // A blocking reload stalls PING for as long as it takes; the port stays open, so liveness falls back to TCP.
    const liveness: ProbeSpec = concurrent
      ? { ...ping, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 5 }
      : { tcp: { port: clamdPort }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 5 };
    return new Workload(
      `${name}-clamav`,
      {
        namespace: args.namespace,
        appName: antivirusApps.clamd,
        partOf: r.partOf,
        image: args.images.image("clamav"),
        command: ["/sbin/tini", "--", "/bin/sh", `${clamavPaths.scripts}/clamav-run.sh`],
        replicas: r.clamdReplicas,
        resources: r.clamdResources,
        bootSeconds: clamdBootSeconds,
        probes: {
          // The port opens before the signatures are loaded: only PONG means ready.
          startup: { ...ping, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 36 },
          readiness: { ...ping, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 2 },
          liveness,
        },
        ports: [{ name: "clamd", port: clamdPort }],
        runAsUser: clamavUser.uid,
        runAsGroup: clamavUser.gid,
        configFiles: [
          {
            name: "config",
            mountPath: clamavPaths.config,
            files: {
              "clamd.conf": renderClamdConf({
                maxUploadBytes: r.maxUploadBytes,
                concurrentDatabaseReload: concurrent,
              }),
              "freshclam.conf": freshclam(true),
              "freshclam-bootstrap.conf": freshclam(false),
            },
          },
          {
            name: "scripts",
            mountPath: clamavPaths.scripts,
            files: { "clamav-run.sh": renderClamdRunScript() },
          },
        ],
        scratchVolumes: [
          // The live signature set, seeded from the image at start (freshclam then fetches only changes).
          { name: "signatures", mountPath: clamavPaths.database, sizeLimit: "2Gi" },
          { name: "run", mountPath: clamavPaths.run, sizeLimit: "16Mi" },
          {
            name: "scan-tmp",
            mountPath: clamavPaths.scanTmp,
            sizeLimit: formatMemory(clamdTmpBytes(r.maxUploadBytes)),
          },
        ],
        terminationGracePeriodSeconds: 60,
        allowFrom: [{ app: antivirusApps.scanWorker }, ...r.scanClients].map((peer) => ({
          ...peer,
          ports: [clamdPort],
        })),
        egressTo: mirrorEgress(args),
      },
      { parent: this },
    );
  }

  private scanWorker(name: string, args: AntivirusArgs, r: ResolvedAntivirusArgs): Workload {
    const http = (path: string) => ({ http: { path, port: scanWorkerHealthPort } });
    return new Workload(
      `${name}-scan-worker`,
      {
        namespace: args.namespace,
        appName: antivirusApps.scanWorker,
        partOf: r.partOf,
        image: args.images.image("python"),
        command: ["python3", `/opt/keel/${scanWorkerFileName}`],
        resources: r.workerResources,
        autoscaling: r.workerAutoscaling,
        bootSeconds: 10,
        probes: {
          startup: { ...http("/healthz"), periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 15 },
          readiness: { ...http("/readyz"), periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
          liveness: { ...http("/healthz"), periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
        },
        ports: [{ name: "health", port: scanWorkerHealthPort }],
        env: {
          PYTHONUNBUFFERED: "1",
          PYTHONDONTWRITEBYTECODE: "1",
          AV_REDIS_HOST: args.queue.host,
          AV_REDIS_PORT: String(r.queuePort),
          AV_STREAM: r.queueStream,
          AV_RESULTS_STREAM: r.resultsStream,
          AV_DEAD_LETTER_STREAM: r.deadLetterStream,
          AV_MAX_ATTEMPTS: String(r.maxAttempts),
          AV_CLAMD_HOST: antivirusApps.clamd,
          AV_CLAMD_PORT: String(clamdPort),
          AV_CLAMD_TIMEOUT_SECONDS: String(clamdTimeoutSeconds),
          AV_HTTP_TIMEOUT_SECONDS: String(httpTimeoutSeconds),
          AV_SYNAPSE_MEDIA_URL: args.synapseMediaUrl,
          AV_SYNAPSE_ADMIN_URL: args.synapseAdminUrl,
          ...(args.adminLogin ? { AV_SYNAPSE_ADMIN_USER: args.adminLogin.user ?? "av-quarantine" } : {}),
          AV_FAIL_MODE: r.failClosed ? "closed" : "open",
          AV_HEALTH_PORT: String(scanWorkerHealthPort),
        },
        secretEnv: {
          AV_REDIS_PASSWORD: args.queue.passwordRef,
          ...(args.adminTokenRef ? { AV_SYNAPSE_ADMIN_TOKEN: args.adminTokenRef } : {}),
          ...(args.adminLogin
            ? {
                AV_SYNAPSE_ADMIN_PASSWORD: args.adminLogin.passwordRef,
                AV_SYNAPSE_REGISTRATION_SECRET: args.adminLogin.registrationSecretRef,
              }
            : {}),
        },
        fieldEnv: { AV_CONSUMER: "metadata.name" },
        configFiles: [
          {
            name: "script",
            mountPath: "/opt/keel",
            files: { [scanWorkerFileName]: renderScanWorkerScript() },
          },
        ],
        // One job (download, scan, quarantine) finishes before the worker exits.
        terminationGracePeriodSeconds: clamdTimeoutSeconds + 2 * httpTimeoutSeconds,
        egressTo: [
          { app: antivirusApps.clamd, ports: [clamdPort] },
          { ...r.queuePeer, ports: [r.queuePort] },
          ...args.synapsePeers,
        ],
      },
      { parent: this },
    );
  }
}

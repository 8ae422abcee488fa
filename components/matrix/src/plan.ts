import {
  Demand,
  NetworkPeer,
  PlatformPlan,
  ResourceSpec,
  ScrapeTarget,
  Site,
  ValidationError,
  sizedStorage,
  throwIfInvalid,
  ImageKey,
} from "@keel/core";
import { exporterDemand, postgresExporterPort, redisExporterPort } from "@keel/monitoring";
import {
  AntivirusModuleEntry,
  AntivirusSettings,
  antivirusDemand,
  antivirusSynapseModule,
  validateAntivirusSettings,
} from "./antivirus";
import {
  GroupCallSettings,
  HAPROXY_PORTS,
  PgBouncerSizing,
  SYNAPSE_MAIN,
  SYNAPSE_PORTS,
  WorkerGroup,
  cacheFactorFor,
  checkSynapsePoolBudget,
  pgbouncerSizing,
  validateWorkerCounts,
  workerGroups,
} from "./config";
import { LawfulInterceptPlan, planLawfulIntercept } from "./lawful-intercept";
import { MatrixAppSettings, ResolvedMatrixSettings, resolveMatrixSettings } from "./settings";
import { MatrixComponent, matrixSizes } from "./sizes";

/** Every catalogue image the platform may run, whatever its settings (its plan's `images`). */
export const matrixImages: readonly ImageKey[] = [
  "postgres",
  "pgbouncer",
  "redis",
  "rustfs",
  "versitygw",
  "rclone",
  "synapse",
  "haproxy",
  "elementWeb",
  "synapseAdmin",
  "lkJwtService",
  "clamav",
  "python",
  "postgresExporter",
  "redisExporter",
  "synapseLi",
  "elementWebLi",
  "synapseAdminLi",
  "keyVault",
];

export interface MatrixArgs {
  /** @default "matrix" */
  namespace?: string;
  /** The lawful-intercept replica's namespace. @default "matrix-li" */
  liNamespace?: string;
  /** @default see MatrixAppSettings */
  app?: MatrixAppSettings;
  /**
   * The platforms it will be wired to when built, which decide what runs: `monitoring` (the exporters, and
   * metrics ports open to Prometheus) and `calls` (lk-jwt-service on the WebRTC platform's LiveKit). What
   * they are (`monitoringNamespace`, `calls`) comes with `MatrixBuildArgs`. @default neither
   */
  peers?: { monitoring?: boolean; calls?: boolean };
}

/** Host names, all under the site's domain (the Matrix server name). */
export interface MatrixHosts {
  homeserver: string;
  element: string;
  admin: string;
  /** lk-jwt-service (group calls). */
  rtc: string;
}

/** The antivirus as planned: its settings (every Secret reference comes at build), module entry and pods. */
export interface MatrixAntivirusPlan {
  readonly settings: AntivirusSettings;
  /** The entry in homeserver.yaml's `modules:`. */
  readonly module: AntivirusModuleEntry;
  readonly demand: readonly Demand[];
}

/** What the Matrix platform will make; `planMatrix` computes it and `Matrix` builds it. */
export interface MatrixPlan extends PlatformPlan {
  readonly namespace: string;
  readonly settings: ResolvedMatrixSettings;
  /** Prometheus scrapes it: the exporters run and metrics ports are open to the monitoring namespace. */
  readonly monitored: boolean;
  /** Group calls through the WebRTC platform: lk-jwt-service runs, clients are told about LiveKit. */
  readonly calls: boolean;
  readonly hosts: MatrixHosts;
  /** Public URLs. */
  readonly urls: { readonly homeserver: string; readonly element: string; readonly admin: string };
  /** What Element and the well-known document announce for group calls (when `calls`). */
  readonly groupCalls?: GroupCallSettings;
  /** The worker StatefulSets at their configured and largest scale. */
  readonly groups: readonly WorkerGroup[];
  /** Every Synapse process's app: main, then one per worker group. */
  readonly synapseApps: readonly string[];
  /** Replicas of PgBouncer and the stateless front ends. */
  readonly replicas: {
    readonly pgbouncer: number;
    readonly haproxy: number;
    readonly web: number;
    readonly lkJwt: number;
  };
  /** PgBouncer's pool, from every Synapse process at its largest scale. */
  readonly pgbouncer: PgBouncerSizing;
  /** Requests and limits of every component, for the sizing profile. */
  readonly resources: Readonly<Record<MatrixComponent, ResourceSpec>>;
  readonly storage: { readonly postgres: string; readonly media: string; readonly objectStore: string };
  /** Synapse's `caches.global_factor` for the sizing profile. */
  readonly cacheFactor: number;
  /** Addresses federation may reach that Synapse blocks by default (private ones, when air-gapped). */
  readonly ipRangeWhitelist: readonly string[];
  /** Where federating processes may connect. */
  readonly federationEgress: readonly NetworkPeer[];
  /** Pods of the main namespace at their largest scale (its quota), and the Gi it claims. */
  readonly mainDemand: readonly Demand[];
  readonly storageGi: number;
  readonly antivirus?: MatrixAntivirusPlan;
  readonly lawfulIntercept?: LawfulInterceptPlan;
}

const pgbouncerReplicas = 2;
const privateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
const defaultNamespace = "matrix";

/** The antivirus's settings: clamd beside Synapse's media process, the scan queue on `av-redis`. */
function antivirusSettings(
  site: Site,
  namespace: string,
  s: ResolvedMatrixSettings,
  groups: readonly WorkerGroup[],
): AntivirusSettings {
  const main = SYNAPSE_MAIN.statefulSet;
  const mediaApp = groups.find((g) => g.type === "media-repository")?.statefulSet ?? main;
  return {
    namespace,
    partOf: "matrix",
    sizing: site.sizing,
    images: site.images,
    serverName: site.domain,
    maxUploadSize: s.maxUploadSize,
    airGapped: site.airGapped,
    signatureSource: s.signatureMirror
      ? { mode: "mirror", url: s.signatureMirror, peer: { cidr: "0.0.0.0/0" } }
      : { mode: "internet" },
    queue: { host: "av-redis" },
    synapseMediaUrl: `http://${mediaApp}:${SYNAPSE_PORTS.http}`,
    synapseAdminUrl: `http://${main}:${SYNAPSE_PORTS.http}`,
    synapsePeers: [...new Set([mediaApp, main])].map((app) => ({ app, ports: [SYNAPSE_PORTS.http] })),
    scanClients: [main, ...groups.map((g) => g.statefulSet)].map((app) => ({ app })),
  };
}

/** Every problem with resolved settings: worker counts, the connection budget, the antivirus. */
function problemsOf(
  site: Site,
  s: ResolvedMatrixSettings,
  antivirus: AntivirusSettings | undefined,
): ValidationError[] {
  const problems = validateWorkerCounts(s.workers, {
    field: "app.workers",
    maxReplicas: s.workerMaxReplicas,
    sharedMediaStore: true,
  });
  if (problems.length === 0) {
    problems.push(
      ...checkSynapsePoolBudget({
        counts: s.workers,
        maxReplicas: s.workerMaxReplicas,
        maxConnections: s.maxConnections,
        reservedConnections: s.reservedConnections,
        pgbouncerReplicas,
        otherConsumers: [{ name: "postgres-exporter", poolSize: 1, maxReplicas: 1 }],
        field: "app",
      }),
    );
  }
  if (antivirus) {
    problems.push(
      ...validateAntivirusSettings(antivirus).map(
        (e) => new ValidationError(`antivirus.${e.field}`, e.problem),
      ),
    );
  }
  if (site.airGapped && s.antivirus && s.signatureMirror === "") {
    problems.push(
      new ValidationError(
        "app.signatureMirror",
        "is required when air-gapped: ClamAV signatures come from the site's mirror",
      ),
    );
  }
  return problems;
}

/** Resolves the settings (throwing for a bad one) and the antivirus's settings. */
function resolve(site: Site, args: MatrixArgs) {
  const settings = resolveMatrixSettings(args.app, site.sizing.name);
  const namespace = args.namespace ?? defaultNamespace;
  const groups = workerGroups(settings.workers, settings.workerMaxReplicas);
  const antivirus = settings.antivirus ? antivirusSettings(site, namespace, settings, groups) : undefined;
  return { settings, namespace, groups, antivirus };
}

/** Every problem with the platform's arguments on this site; fields are `app.*` (and `antivirus.*`). */
export function validateMatrixArgs(site: Site, args: MatrixArgs = {}): ValidationError[] {
  let r: ReturnType<typeof resolve>;
  try {
    r = resolve(site, args);
  } catch (e) {
    if (e instanceof ValidationError) return [e];
    throw e;
  }
  return problemsOf(site, r.settings, r.antivirus);
}

/**
 * Resolves the Matrix platform's settings once and computes everything it will make: worker groups, pools,
 * replicas, sizes, the antivirus, the LI replica, and what the cluster must hold for it.
 */
export function planMatrix(site: Site, args: MatrixArgs = {}): MatrixPlan {
  const { settings: s, namespace, groups, antivirus: avSettings } = resolve(site, args);
  throwIfInvalid(problemsOf(site, s, avSettings));
  const monitored = args.peers?.monitoring ?? false;
  const calls = args.peers?.calls ?? false;
  const d = site.domain;
  const hosts = { homeserver: `matrix.${d}`, element: `element.${d}`, admin: `admin.${d}`, rtc: `rtc.${d}` };
  const ha = site.sizing.replicas > 1 ? 2 : 1;
  const replicas = { pgbouncer: pgbouncerReplicas, haproxy: Math.max(2, ha), web: ha, lkJwt: ha };
  const resources = matrixSizes(site.sizing);
  const antivirus = avSettings && {
    settings: avSettings,
    module: antivirusSynapseModule(avSettings),
    demand: antivirusDemand(avSettings),
  };
  const lawfulIntercept = s.lawfulIntercept
    ? planLawfulIntercept(site, {
        namespace: args.liNamespace ?? "matrix-li",
        mainNamespace: namespace,
        schedule: s.liSyncSchedule,
        resources,
      })
    : undefined;
  const dem = (c: MatrixComponent, n = 1, label: string = c): Demand => ({
    name: `matrix/${label}`,
    replicas: n,
    resources: resources[c],
  });
  const mainDemand = [
    dem("synapseMain"),
    ...groups.map((g) => dem("synapseWorker", g.maxReplicas, g.statefulSet)),
    dem("postgres"),
    dem("syncJob", 1, "postgres-backup"),
    dem("pgbouncer", replicas.pgbouncer),
    dem("redis"),
    dem("haproxy", replicas.haproxy),
    dem("objectStore"),
    dem("syncJob", 1, "media-mirror"),
    dem("elementWeb", replicas.web),
    dem("elementWeb", replicas.web, "well-known"),
    dem("synapseAdmin", replicas.web),
    ...(calls ? [dem("lkJwtService", replicas.lkJwt)] : []),
    ...(antivirus ? [dem("redis", 1, "av-redis"), ...antivirus.demand] : []),
    ...(monitored
      ? [
          exporterDemand(site.sizing, "postgresExporter", "matrix/synapse-postgres-exporter"),
          exporterDemand(site.sizing, "redisExporter", "matrix/synapse-redis-exporter"),
        ]
      : []),
  ];
  const scrapeTargets: ScrapeTarget[] = monitored
    ? [
        {
          namespace,
          ports: [SYNAPSE_PORTS.metrics, HAPROXY_PORTS.stats, postgresExporterPort, redisExporterPort],
        },
      ]
    : [];
  return {
    site,
    namespace,
    settings: s,
    monitored,
    calls,
    hosts,
    urls: {
      homeserver: `https://${hosts.homeserver}`,
      element: `https://${hosts.element}`,
      admin: `https://${hosts.admin}`,
    },
    groupCalls: calls ? { livekitServiceUrl: `https://${hosts.rtc}` } : undefined,
    groups,
    synapseApps: [SYNAPSE_MAIN.statefulSet, ...groups.map((g) => g.statefulSet)],
    replicas,
    pgbouncer: pgbouncerSizing({ counts: s.workers, maxReplicas: s.workerMaxReplicas, pgbouncerReplicas }),
    resources,
    storage: {
      postgres: sizedStorage(site.sizing, 20),
      media: sizedStorage(site.sizing, 50),
      objectStore: sizedStorage(site.sizing, 100),
    },
    cacheFactor: cacheFactorFor(site.sizing.name),
    ipRangeWhitelist: site.airGapped ? privateRanges : [],
    // Air-gapped federation stays on private addresses, which Synapse blocks by default.
    federationEgress: site.airGapped
      ? privateRanges.map((cidr) => ({ cidr, ports: [443, 8448] }))
      : [{ cidr: "0.0.0.0/0", except: privateRanges, ports: [443, 8448] }],
    mainDemand,
    storageGi: (20 + 20 + 50 + 100 + 1) * site.sizing.storageScale,
    antivirus,
    lawfulIntercept,
    namespaces: [namespace, ...(lawfulIntercept ? [lawfulIntercept.namespace] : [])],
    demand: [...mainDemand, ...(lawfulIntercept?.demand ?? [])],
    nodePorts: [],
    scrapeTargets,
    images: matrixImages,
  };
}

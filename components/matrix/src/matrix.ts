import {
  BackupPolicy,
  BatchJob,
  Demand,
  GeneratedSecret,
  ImageResolver,
  IngressTls,
  Namespace,
  NetworkPeer,
  ObjectStore,
  PgBouncer,
  Postgres,
  Redis,
  SizingProfile,
  ValidationError,
  WebIngress,
  Workload,
  appLabels,
  namespaceBudget,
  sizedStorage,
  throwIfInvalid,
  sharedClaim,
} from "@keel/core";
import {
  PostgresExporter,
  RedisExporter,
  exporterAppName,
  exporterDemand,
  scrapedBy,
} from "@keel/monitoring";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { lkJwtService, spaServerConfig, staticWebApp } from "./clients";
import {
  HAPROXY_MONITOR_URI,
  HAPROXY_PORTS,
  SynapseDatabaseSettings,
  cacheFactorFor,
  checkSynapsePoolBudget,
  pgbouncerSizing,
  renderElementConfig,
  renderHaproxyConfig,
  renderHomeserverConfig,
  renderLogConfig,
  renderWellKnown,
  validateWorkerCounts,
  workerGroups,
} from "./config";
import {
  Antivirus,
  AntivirusArgs,
  antivirusDemand,
  antivirusSynapseModule,
  validateAntivirusArgs,
} from "./antivirus";
import { LawfulIntercept, lawfulInterceptDemand } from "./lawful-intercept";
import { MatrixAppSettings, ResolvedMatrixSettings, resolveMatrixSettings } from "./settings";
import { MatrixComponent, matrixSize } from "./sizes";
import { SynapseProcesses } from "./synapse";
import { SynapseSecrets } from "./synapse-secrets";

/** Group calls and TURN from the WebRTC platform (LiveKit, coturn/STUNner). */
export interface MatrixCalls {
  /** `wss://livekit.<domain>`. */
  livekitUrl: string;
  /** Namespace and app of LiveKit (lk-jwt-service talks to its API). */
  livekitNamespace: string;
  apiKey: pulumi.Input<string>;
  apiSecret: pulumi.Input<string>;
  turnUris: string[];
  turnSharedSecret: pulumi.Input<string>;
}

export interface MatrixArgs {
  /** @default "matrix" */
  namespace?: string;
  /** The lawful-intercept replica's namespace. @default "matrix-li" */
  liNamespace?: string;
  /** The Matrix server name; hosts are `matrix.`, `element.`, `admin.`, `rtc.` under it. */
  domain: string;
  sizing: SizingProfile;
  images: ImageResolver;
  fastStorageClass: string;
  /** Storage class of backups, the media store (ReadWriteMany) and the object store. */
  bulkStorageClass: string;
  ingressClass: string;
  ingressTls: IngressTls;
  /** @default "ingress-nginx" */
  ingressControllerNamespace?: string;
  /** @default false */
  ingressSkipAwait?: boolean;
  backup: Omit<BackupPolicy, "storageClass">;
  /** No internet: federation only with private addresses, signatures from a mirror. @default false */
  airGapped?: boolean;
  /** PEM of the stack's private CA (self-signed mode): trusted for federation. @default undefined */
  caCertificate?: pulumi.Input<string>;
  /** Group calls and TURN from the WebRTC platform. @default undefined (no calls) */
  calls?: MatrixCalls;
  /** Namespace of Prometheus, allowed to scrape metrics ports. @default undefined */
  monitoringNamespace?: string;
  /** @default false */
  protectData?: boolean;
  /** @default 0 */
  secretRotation?: number;
  /** @default see MatrixAppSettings */
  app?: MatrixAppSettings;
}

const hostRe = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const pgbouncerReplicas = 2;
const privateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/** The antivirus's arguments; Secret references are placeholders until the Secrets exist (demand, checks). */
function antivirusArgs(
  args: MatrixArgs,
  s: ResolvedMatrixSettings,
  namespace: pulumi.Input<string>,
  refs: Pick<AntivirusArgs, "queue" | "adminLogin">,
): AntivirusArgs {
  const groups = workerGroups(s.workers);
  const mediaApp = groups.some((g) => g.type === "media-repository")
    ? "synapse-media-repository"
    : "synapse-main";
  return {
    namespace,
    partOf: "matrix",
    sizing: args.sizing,
    images: args.images,
    serverName: args.domain,
    maxUploadSize: s.maxUploadSize,
    airGapped: args.airGapped ?? false,
    signatureSource: s.signatureMirror
      ? { mode: "mirror", url: s.signatureMirror, peer: { cidr: "0.0.0.0/0" } }
      : { mode: "internet" },
    ...refs,
    synapseMediaUrl: `http://${mediaApp}:8008`,
    synapseAdminUrl: "http://synapse-main:8008",
    synapsePeers: [...new Set([mediaApp, "synapse-main"])].map((app) => ({ app, ports: [8008] })),
    scanClients: ["synapse-main", ...groups.map((g) => g.statefulSet)].map((app) => ({ app })),
  };
}

const placeholderRef = { secretName: "placeholder", key: "placeholder" };
const placeholderRefs = {
  queue: { host: "av-redis", passwordRef: placeholderRef },
  adminLogin: { passwordRef: placeholderRef, registrationSecretRef: placeholderRef },
};

function settingsOf(args: MatrixArgs): ResolvedMatrixSettings {
  return resolveMatrixSettings(args.app, args.sizing.name);
}

export function validateMatrixArgs(args: MatrixArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!hostRe.test(args.domain))
    problems.push(new ValidationError("domain", `"${args.domain}" is not a DNS domain`));
  let s: ResolvedMatrixSettings;
  try {
    s = settingsOf(args);
  } catch (e) {
    return [...problems, e as ValidationError];
  }
  problems.push(
    ...validateWorkerCounts(s.workers, {
      field: "app.workers",
      maxReplicas: s.workerMaxReplicas,
      sharedMediaStore: true,
    }),
  );
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
  if (s.antivirus) {
    problems.push(
      ...validateAntivirusArgs(antivirusArgs(args, s, "matrix", placeholderRefs)).map(
        (e) => new ValidationError(`antivirus.${e.field}`, e.problem),
      ),
    );
  }
  if (args.airGapped && s.antivirus && s.signatureMirror === "") {
    problems.push(
      new ValidationError(
        "app.signatureMirror",
        "is required when air-gapped: ClamAV signatures come from the site's mirror",
      ),
    );
  }
  return problems;
}

/** Replicas of the stateless front ends. */
function plan(args: MatrixArgs) {
  const ha = args.sizing.replicas > 1 ? 2 : 1;
  return { haproxy: Math.max(2, ha), web: ha, lkJwt: ha };
}

/** Every pod of the main namespace at its largest scale, for the capacity check and the quota. */
export function matrixDemand(args: MatrixArgs): Demand[] {
  const s = settingsOf(args);
  const p = plan(args);
  const d = (c: MatrixComponent, replicas = 1, label: string = c): Demand => ({
    name: `matrix/${label}`,
    replicas,
    resources: matrixSize(args.sizing, c),
  });
  const groups = workerGroups(s.workers, s.workerMaxReplicas);
  return [
    d("synapseMain"),
    ...groups.map((g) => d("synapseWorker", g.maxReplicas, g.statefulSet)),
    d("postgres"),
    d("syncJob", 1, "postgres-backup"),
    d("pgbouncer", pgbouncerReplicas),
    d("redis"),
    d("haproxy", p.haproxy),
    d("objectStore"),
    d("syncJob", 1, "media-mirror"),
    d("elementWeb", p.web),
    d("elementWeb", p.web, "well-known"),
    d("synapseAdmin", p.web),
    ...(args.calls ? [d("lkJwtService", p.lkJwt)] : []),
    ...(s.antivirus
      ? [d("redis", 1, "av-redis"), ...antivirusDemand(antivirusArgs(args, s, "matrix", placeholderRefs))]
      : []),
    ...(args.monitoringNamespace
      ? [
          exporterDemand(args.sizing, "postgresExporter", "matrix/synapse-postgres-exporter"),
          exporterDemand(args.sizing, "redisExporter", "matrix/synapse-redis-exporter"),
        ]
      : []),
    ...(s.lawfulIntercept ? lawfulInterceptDemand(args.sizing) : []),
  ];
}

/** Gi the main namespace claims. */
export function matrixStorageGi(args: MatrixArgs): number {
  const scale = args.sizing.storageScale;
  return (20 + 20 + 50 + 100 + 1) * scale;
}

/**
 * Matrix: Synapse's main process and workers behind generated HAProxy routing, PostgreSQL (UTF8, C collation)
 * behind PgBouncer in session mode, Redis for replication, media on a shared volume mirrored into the S3
 * object store, Element Web, Synapse Admin, group calls through the WebRTC platform's LiveKit with
 * lk-jwt-service, and the isolated lawful-intercept replica.
 */
export class Matrix extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly liNamespace?: pulumi.Output<string>;
  /** Public URLs. */
  readonly urls: { homeserver: string; element: string; admin: string };
  /** Names of the generated Secrets (never their values). */
  readonly secretNames: pulumi.Output<string[]>;

  constructor(name: string, args: MatrixArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:matrix:Matrix", name, {}, opts);
    throwIfInvalid(validateMatrixArgs(args));
    const s = settingsOf(args);
    const p = plan(args);
    const partOf = "matrix";
    const child = { parent: this };
    const size = (c: MatrixComponent) => matrixSize(args.sizing, c);
    const ingressNs = args.ingressControllerNamespace ?? "ingress-nginx";
    const nsName = args.namespace ?? "matrix";
    const liNsName = args.liNamespace ?? "matrix-li";
    const rotation = args.secretRotation;
    const protect = args.protectData ?? false;
    const hosts = {
      homeserver: `matrix.${args.domain}`,
      element: `element.${args.domain}`,
      admin: `admin.${args.domain}`,
      rtc: `rtc.${args.domain}`,
    };
    this.urls = {
      homeserver: `https://${hosts.homeserver}`,
      element: `https://${hosts.element}`,
      admin: `https://${hosts.admin}`,
    };
    const ingress = (id: string, host: string, service: pulumi.Input<string>, port: number, extra = {}) =>
      new WebIngress(
        `${name}-${id}-ingress`,
        {
          namespace,
          partOf,
          host,
          serviceName: service,
          servicePort: port,
          ingressClass: args.ingressClass,
          tls: args.ingressTls,
          skipAwait: args.ingressSkipAwait,
          ...extra,
        },
        child,
      );

    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: nsName,
        budget: namespaceBudget(
          matrixDemand(args).filter((d) => d.name.startsWith("matrix/")),
          matrixStorageGi(args),
        ),
      },
      child,
    );
    const namespace = ns.name;
    this.namespace = namespace;
    const groups = workerGroups(s.workers, s.workerMaxReplicas);
    const synapseApps = ["synapse-main", ...groups.map((g) => g.statefulSet)];
    const synapsePeers: NetworkPeer[] = synapseApps.map((app) => ({ app }));
    const scrapers: NetworkPeer[] = args.monitoringNamespace ? [scrapedBy(args.monitoringNamespace)] : [];
    const exporters = args.monitoringNamespace
      ? [{ app: exporterAppName("synapse-postgres") }, { app: exporterAppName("synapse-redis") }]
      : [];

    // PostgreSQL: Synapse requires UTF8 with C collation and ctype; a publication feeds the LI replica.
    const postgres = new Postgres(
      `${name}-postgres`,
      {
        namespace,
        partOf,
        image: args.images.image("postgres"),
        appName: "synapse-postgres",
        resources: size("postgres"),
        storageClass: args.fastStorageClass,
        storageSize: sizedStorage(args.sizing, 20),
        database: "synapse",
        user: "synapse",
        initdbArgs: "--encoding=UTF8 --lc-collate=C --lc-ctype=C",
        maxConnections: s.maxConnections,
        reservedConnections: s.reservedConnections,
        publication: s.lawfulIntercept ? { name: "synapse_li", user: "li_replicator" } : undefined,
        allowFrom: [
          { app: "pgbouncer" },
          ...exporters.slice(0, 1),
          ...(s.lawfulIntercept
            ? ["synapse-li-postgres", "li-replication-setup", "li-sequence-sync"].map((app) => ({
                app,
                namespace: liNsName,
              }))
            : []),
        ],
        backup: { ...args.backup, storageClass: args.bulkStorageClass },
        protect,
        rotation,
      },
      child,
    );
    const sizing = pgbouncerSizing({
      counts: s.workers,
      maxReplicas: s.workerMaxReplicas,
      pgbouncerReplicas,
    });
    const pgbouncer = new PgBouncer(
      `${name}-pgbouncer`,
      {
        namespace,
        partOf,
        image: args.images.image("pgbouncer"),
        resources: size("pgbouncer"),
        serverApp: "synapse-postgres",
        databaseId: postgres.databaseId,
        database: "synapse",
        user: "synapse",
        password: postgres.credentials.values.password,
        poolMode: sizing.poolMode,
        poolSize: sizing.defaultPoolSize,
        maxClientConnections: sizing.maxClientConn,
        replicas: pgbouncerReplicas,
        allowFrom: synapsePeers,
      },
      child,
    );

    const redis = new Redis(
      `${name}-redis`,
      {
        namespace,
        partOf,
        image: args.images.image("redis"),
        appName: "synapse-redis",
        resources: size("redis"),
        // Replication pub/sub and caches: nothing Synapse cannot rebuild, but a restart should not empty it.
        evictionPolicy: "allkeys-lru",
        persistence: true,
        storageClass: args.fastStorageClass,
        storageSize: "1Gi",
        allowFrom: [...synapsePeers, ...exporters.slice(1)],
        rotation,
      },
      child,
    );

    // Media: one ReadWriteMany volume (the media repository and, without one, main), mirrored into S3.
    const media = sharedClaim(
      `${name}-media`,
      {
        namespace,
        partOf,
        claimName: "synapse-media",
        storageClass: args.bulkStorageClass,
        size: sizedStorage(args.sizing, 50),
        protect,
      },
      child,
    );
    const objectStore = new ObjectStore(
      `${name}-s3`,
      {
        namespace,
        partOf,
        appName: "media-s3",
        images: args.images,
        resources: size("objectStore"),
        storageClass: args.bulkStorageClass,
        storageSize: sizedStorage(args.sizing, 100),
        allowFrom: [
          { app: "media-mirror" },
          ...(s.lawfulIntercept ? [{ app: "li-media-sync", namespace: liNsName }] : []),
        ],
        protect,
        rotation,
      },
      child,
    );
    new BatchJob(
      `${name}-media-mirror`,
      {
        namespace,
        partOf,
        appName: "media-mirror",
        image: args.images.image("rclone"),
        command: ["rclone", "sync", "--s3-provider=Other", "/media", ":s3:synapse-media"],
        resources: size("syncJob"),
        schedule: s.mediaMirrorSchedule,
        env: {
          RCLONE_S3_ENDPOINT: objectStore.endpoint,
          RCLONE_CONFIG: "/tmp/rclone.conf",
          RCLONE_CACHE_DIR: "/tmp/rclone",
        },
        secretEnv: {
          RCLONE_S3_ACCESS_KEY_ID: objectStore.accessKeyRef(),
          RCLONE_S3_SECRET_ACCESS_KEY: objectStore.secretKeyRef(),
        },
        sharedVolumes: [
          { name: "media", mountPath: "/media", claimName: media.metadata.name, readOnly: true },
        ],
        egressTo: [{ app: "media-s3", ports: [objectStore.port] }],
      },
      child,
    );

    const synapseSecrets = new SynapseSecrets(
      `${name}-synapse-secrets`,
      {
        namespace,
        partOf,
        app: "synapse",
        keyId: "a_keel",
        registrationAndReplication: true,
        turnSharedSecret: args.calls?.turnSharedSecret,
        rotation,
        protect,
      },
      child,
    );
    const generated = synapseSecrets.generated;

    // The private CA (not a secret) that other servers' certificates chain to, for federation.
    const federationCa = args.caCertificate
      ? new k8s.core.v1.Secret(
          `${name}-federation-ca`,
          {
            metadata: { name: "synapse-federation-ca", namespace, labels: appLabels("synapse", partOf) },
            stringData: { "ca.pem": args.caCertificate },
          },
          child,
        )
      : undefined;
    // Antivirus: clamd, scan workers on their own queue (never evicted), Synapse's module on every process.
    let av: Antivirus | undefined;
    if (s.antivirus) {
      const queue = new Redis(
        `${name}-av-redis`,
        {
          namespace,
          partOf,
          image: args.images.image("redis"),
          appName: "av-redis",
          resources: size("redis"),
          evictionPolicy: "noeviction",
          persistence: true,
          storageClass: args.fastStorageClass,
          storageSize: "1Gi",
          allowFrom: [{ app: "av-scan-worker" }, ...synapsePeers],
          rotation,
        },
        child,
      );
      const admin = new GeneratedSecret(
        `${name}-av-admin`,
        { namespace, secretName: "av-admin", generate: { password: { length: 32 } }, rotation },
        child,
      );
      av = new Antivirus(
        `${name}-av`,
        antivirusArgs(args, s, namespace, {
          queue: { host: "av-redis", passwordRef: queue.passwordRef() },
          adminLogin: {
            passwordRef: admin.ref("password"),
            registrationSecretRef: generated.ref("registration"),
          },
        }),
        child,
      );
    }
    const database: SynapseDatabaseSettings = { host: "pgbouncer", database: "synapse", user: "synapse" };
    const caPath = "/etc/keel-ca/ca.pem";
    const homeserverYaml = renderHomeserverConfig({
      domain: args.domain,
      homeserverHost: hosts.homeserver,
      counts: s.workers,
      database,
      redis: { host: "synapse-redis", passwordPath: "/secrets/redis/password" },
      mediaStorePath: "/media/media_store",
      maxUploadSize: s.maxUploadSize,
      sharedMediaStore: true,
      federationCustomCaPath: args.caCertificate ? caPath : undefined,
      federationDomainWhitelist: s.federationDomainWhitelist,
      // Air-gapped federation stays on private addresses, which Synapse blocks by default.
      ipRangeWhitelist: args.airGapped ? privateRanges : [],
      turn: args.calls ? { uris: args.calls.turnUris } : undefined,
      groupCalls: args.calls !== undefined,
      cacheFactor: cacheFactorFor(args.sizing.name),
      modules: s.antivirus ? [antivirusSynapseModule(antivirusArgs(args, s, "matrix", placeholderRefs))] : [],
    });
    const federationEgress: NetworkPeer[] = args.airGapped
      ? privateRanges.map((cidr) => ({ cidr, ports: [443, 8448] }))
      : [{ cidr: "0.0.0.0/0", except: privateRanges, ports: [443, 8448] }];

    const synapse = new SynapseProcesses(
      `${name}-synapse`,
      {
        namespace,
        partOf,
        image: args.images.image("synapse"),
        groups,
        homeserverYaml,
        logYaml: renderLogConfig(),
        database,
        databasePassword: postgres.passwordRef(),
        secretsSecretName: synapseSecrets.configSecretName,
        signingKeySecretName: synapseSecrets.signingKeySecretName,
        redisSecretName: redis.credentials.secretName,
        mainResources: size("synapseMain"),
        workerResources: size("synapseWorker"),
        mediaStore: { name: "media", mountPath: "/media", claimName: media.metadata.name },
        extraConfig: av
          ? [{ name: "av-module", mountPath: av.synapse.mountPath, configMapName: av.synapse.configMapName }]
          : [],
        env: av?.synapse.env,
        secretEnv: av?.synapse.secretEnv,
        extraSecretFiles: federationCa
          ? [{ name: "ca", mountPath: "/etc/keel-ca", secretName: federationCa.metadata.name }]
          : [],
        httpClients: [{ app: "synapse-haproxy" }, ...(av ? [{ app: "av-scan-worker" }] : [])],
        metricsScrapers: scrapers,
        egressTo: [
          { app: "pgbouncer", ports: [5432] },
          { app: "synapse-redis", ports: [6379] },
          ...(av?.synapse.egressTo ?? []),
        ],
        federationEgress,
        protect,
      },
      { parent: this, dependsOn: [pgbouncer, redis] },
    );

    if (args.monitoringNamespace) {
      new PostgresExporter(
        `${name}-postgres-exporter`,
        {
          namespace,
          partOf,
          images: args.images,
          sizing: args.sizing,
          host: "synapse-postgres",
          serverApp: "synapse-postgres",
          database: "synapse",
          user: "synapse",
          password: postgres.passwordRef(),
          monitoringNamespace: args.monitoringNamespace,
        },
        child,
      );
      new RedisExporter(
        `${name}-redis-exporter`,
        {
          namespace,
          partOf,
          images: args.images,
          sizing: args.sizing,
          host: "synapse-redis",
          serverApp: "synapse-redis",
          password: redis.passwordRef(),
          monitoringNamespace: args.monitoringNamespace,
        },
        child,
      );
    }

    const haproxy = new Workload(
      `${name}-haproxy`,
      {
        namespace,
        appName: "synapse-haproxy",
        partOf,
        image: args.images.image("haproxy"),
        command: ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"],
        replicas: p.haproxy,
        resources: size("haproxy"),
        probes: {
          startup: {
            http: { path: HAPROXY_MONITOR_URI, port: HAPROXY_PORTS.http },
            periodSeconds: 2,
            failureThreshold: 15,
          },
          readiness: {
            http: { path: HAPROXY_MONITOR_URI, port: HAPROXY_PORTS.http },
            periodSeconds: 5,
            failureThreshold: 2,
          },
          liveness: {
            http: { path: HAPROXY_MONITOR_URI, port: HAPROXY_PORTS.http },
            periodSeconds: 10,
            failureThreshold: 3,
          },
        },
        ports: [
          { name: "http", port: HAPROXY_PORTS.http },
          { name: "stats", port: HAPROXY_PORTS.stats },
        ],
        runAsUser: 99,
        configFiles: [
          {
            name: "config",
            mountPath: "/usr/local/etc/haproxy",
            files: {
              "haproxy.cfg": renderHaproxyConfig({
                counts: s.workers,
                maxReplicas: s.workerMaxReplicas,
                namespace: nsName,
                sharedMediaStore: true,
              }),
            },
          },
        ],
        scratchVolumes: [{ name: "run", mountPath: "/var/lib/haproxy", sizeLimit: "16Mi" }],
        allowFrom: [
          { namespace: ingressNs, ports: [HAPROXY_PORTS.http] },
          { app: "lk-jwt-service", ports: [HAPROXY_PORTS.http] },
          ...scrapers.map((sc) => ({ ...sc, ports: [HAPROXY_PORTS.stats] })),
        ],
        egressTo: synapseApps.map((app) => ({ app, ports: [8008, 8080] })),
        podAnnotations: {
          "keel.dev/metrics-port": String(HAPROXY_PORTS.stats),
          "keel.dev/metrics-path": "/metrics",
        },
      },
      child,
    );
    ingress("homeserver", hosts.homeserver, haproxy.serviceName, HAPROXY_PORTS.http, {
      annotations: {
        "nginx.ingress.kubernetes.io/proxy-body-size": s.maxUploadSize.replace(/M$/, "m"),
        // /sync long-polls for up to 30 s; federation transactions can be slow.
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "180",
      },
    });

    const groupCalls = args.calls ? { livekitServiceUrl: `https://${hosts.rtc}` } : undefined;
    const wellKnown = renderWellKnown({
      homeserverUrl: this.urls.homeserver,
      federationHost: `${hosts.homeserver}:443`,
      groupCalls,
    });
    const wellKnownApp = staticWebApp(
      `${name}-well-known`,
      {
        namespace,
        partOf,
        appName: "well-known",
        image: args.images.image("elementWeb"),
        resources: size("elementWeb"),
        replicas: p.web,
        files: {},
        filesPath: "/srv",
        nginxServerConfig: wellKnownServerConfig(wellKnown),
        allowFrom: [{ namespace: ingressNs }],
      },
      child,
    );
    ingress("well-known", args.domain, wellKnownApp.serviceName, 8080, { path: "/.well-known/matrix" });

    const element = staticWebApp(
      `${name}-element`,
      {
        namespace,
        partOf,
        appName: "element-web",
        image: args.images.image("elementWeb"),
        resources: size("elementWeb"),
        replicas: p.web,
        files: {
          "config.json": renderElementConfig({
            homeserverUrl: this.urls.homeserver,
            serverName: args.domain,
            groupCalls,
          }),
        },
        filesPath: "/app",
        env: { ELEMENT_WEB_PORT: "8080" },
        allowFrom: [{ namespace: ingressNs }],
      },
      child,
    );
    ingress("element", hosts.element, element.serviceName, 8080);

    const admin = staticWebApp(
      `${name}-admin`,
      {
        namespace,
        partOf,
        appName: "synapse-admin",
        image: args.images.image("synapseAdmin"),
        resources: size("synapseAdmin"),
        replicas: p.web,
        files: { "config.json": JSON.stringify({ restrictBaseUrl: this.urls.homeserver }) + "\n" },
        filesPath: "/app",
        nginxServerConfig: spaServerConfig("/app"),
        stockNginx: true,
        allowFrom: [{ namespace: ingressNs }],
      },
      child,
    );
    ingress("admin", hosts.admin, admin.serviceName, 8080);

    const secrets: pulumi.Input<string>[] = [
      postgres.credentials.secretName,
      redis.credentials.secretName,
      objectStore.credentials.secretName,
      ...synapseSecrets.secretNames(),
    ];
    if (args.calls) {
      const keys = new GeneratedSecret(
        `${name}-livekit-keys`,
        {
          namespace,
          secretName: "livekit-keys",
          generate: {},
          provided: { "api-key": args.calls.apiKey, "api-secret": args.calls.apiSecret },
        },
        child,
      );
      secrets.push(keys.secretName);
      const jwt = lkJwtService(
        `${name}-lk-jwt`,
        {
          namespace,
          partOf,
          image: args.images.image("lkJwtService"),
          resources: size("lkJwtService"),
          replicas: p.lkJwt,
          livekitUrl: args.calls.livekitUrl,
          apiKey: keys.ref("api-key"),
          apiSecret: keys.ref("api-secret"),
          fullAccessHomeservers: [args.domain],
          allowFrom: [{ namespace: ingressNs }],
          egressTo: [
            { app: "synapse-haproxy", ports: [HAPROXY_PORTS.http] },
            { app: "livekit", namespace: args.calls.livekitNamespace, ports: [7880] },
            // OpenID userinfo goes to the homeserver's public name (the ingress controller).
            { namespace: ingressNs, ports: [443] },
          ],
        },
        child,
      );
      ingress("rtc", hosts.rtc, jwt.serviceName, 8080);
    }

    if (s.lawfulIntercept) {
      const li = new LawfulIntercept(
        `${name}-li`,
        {
          namespace: liNsName,
          mainNamespace: nsName,
          domain: args.domain,
          sizing: args.sizing,
          images: args.images,
          fastStorageClass: args.fastStorageClass,
          bulkStorageClass: args.bulkStorageClass,
          ingressClass: args.ingressClass,
          ingressTls: args.ingressTls,
          ingressControllerNamespace: ingressNs,
          ingressSkipAwait: args.ingressSkipAwait,
          backup: args.backup,
          schedule: s.liSyncSchedule,
          main: {
            postgresApp: "synapse-postgres",
            database: "synapse",
            replicationUser: "li_replicator",
            replicationPassword: postgres.credentials.values["li_replicator-password"],
            publication: "synapse_li",
            s3App: "media-s3",
            s3Port: objectStore.port,
            s3AccessKey: objectStore.credentials.values["access-key"],
            s3SecretKey: objectStore.credentials.values["secret-key"],
          },
          protectData: protect,
          secretRotation: rotation,
        },
        // The replication setup copies main's schema: only once main's Synapse is ready (its migrations ran).
        { parent: this, dependsOn: [postgres, synapse] },
      );
      this.liNamespace = li.namespace;
      secrets.push(...li.secretNames);
    }
    this.secretNames = pulumi.all(secrets);
    this.registerOutputs({ namespace: this.namespace, urls: this.urls, secretNames: this.secretNames });
  }
}

/** nginx serving `/.well-known/matrix/{client,server}` as JSON with CORS (the server name's delegation). */
export function wellKnownServerConfig(docs: { client: string; server: string }): string {
  const location = (path: string, body: string) => [
    `    location = /.well-known/matrix/${path} {`,
    "        default_type application/json;",
    "        add_header Access-Control-Allow-Origin *;",
    `        return 200 '${body.trim().replace(/'/g, "\\'")}';`,
    "    }",
  ];
  return [
    "server {",
    "    listen 8080;",
    ...location("client", docs.client),
    ...location("server", docs.server),
    "    location = / {",
    "        return 200 'ok';",
    "    }",
    "    location / {",
    "        return 404;",
    "    }",
    "}",
    "",
  ].join("\n");
}

import {
  BackupPolicy,
  checkConnectionBudget,
  ConnectionConsumer,
  Demand,
  GeneratedSecret,
  ImageKey,
  ImageResolver,
  IngressTls,
  Namespace,
  namespaceBudget,
  NetworkPeer,
  ObjectStore,
  Postgres,
  Redis,
  SecretKeyRef,
  SizingProfile,
  standardProbes,
  throwIfInvalid,
  ValidationError,
  WebIngress,
  Workload,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { Elasticsearch } from "./elasticsearch";
import { Kibana } from "./kibana";
import { Neo4j, neo4jBoltThreads } from "./neo4j";
import { RabbitMQ } from "./rabbitmq";
import { OsintAppSettings, ResolvedOsintSettings, resolveOsintSettings } from "./settings";
import { OsintComponent, baseStorageGi, osintSize } from "./sizes";

export interface OsintArgs {
  /** @default "osint" */
  namespace?: string;
  /** Base domain; hosts are `osint.<domain>` (ops UI) and `kibana.<domain>`. */
  domain: string;
  sizing: SizingProfile;
  images: ImageResolver;
  /** Storage class for databases, indexes and queues. */
  fastStorageClass: string;
  /** Storage class for backups and the object store. */
  bulkStorageClass: string;
  ingressClass: string;
  ingressTls: IngressTls;
  /** Namespace of the ingress controller. @default "ingress-nginx" */
  ingressControllerNamespace?: string;
  /** Don't wait for ingress addresses. @default false */
  ingressSkipAwait?: boolean;
  /** Backup schedule and retention of PostgreSQL; the volume uses `bulkStorageClass`. */
  backup: Omit<BackupPolicy, "storageClass">;
  /** Protect data stores from `pulumi destroy`. @default false */
  protectData?: boolean;
  /** Bump to rotate every generated secret. @default 0 */
  secretRotation?: number;
  /** The OpenCTI API token (secret config); generated when not provided. @default undefined */
  openctiToken?: pulumi.Input<string>;
  /** Pools, batch sizes, the object store backend. @default see OsintAppSettings */
  app?: OsintAppSettings;
}

const hostRe = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Replica plan shared by the demand, the connection budgets and the resources. */
function plan(args: OsintArgs) {
  const ha = args.sizing.replicas > 1;
  const workers = ha ? { minReplicas: 2, maxReplicas: 10 } : { minReplicas: 1, maxReplicas: 3 };
  return {
    collector: workers,
    enricher: workers,
    orchestratorReplicas: ha ? 2 : 1,
    opsUiReplicas: ha ? 2 : 1,
    maxConnections: ha ? 200 : 100,
    reservedConnections: 10,
  };
}

/** Every PostgreSQL client and its pool at full scale. */
function postgresConsumers(args: OsintArgs, app: ResolvedOsintSettings): ConnectionConsumer[] {
  const p = plan(args);
  return [
    { name: "orchestrator", poolSize: app.dbPoolSize, maxReplicas: p.orchestratorReplicas },
    { name: "collector", poolSize: app.dbPoolSize, maxReplicas: p.collector.maxReplicas },
    { name: "enricher", poolSize: app.dbPoolSize, maxReplicas: p.enricher.maxReplicas },
  ];
}

/** Every Neo4j client and its driver pool at full scale, against the Bolt thread pool. */
function neo4jConsumers(args: OsintArgs, app: ResolvedOsintSettings): ConnectionConsumer[] {
  const p = plan(args);
  return [
    { name: "orchestrator", poolSize: app.neo4jPoolSize, maxReplicas: p.orchestratorReplicas },
    { name: "enricher", poolSize: app.neo4jPoolSize, maxReplicas: p.enricher.maxReplicas },
  ];
}

export function validateOsintArgs(args: OsintArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!hostRe.test(args.domain))
    problems.push(new ValidationError("domain", `"${args.domain}" is not a DNS domain`));
  for (const field of ["fastStorageClass", "bulkStorageClass"] as const) {
    if (!args[field]?.trim()) problems.push(new ValidationError(field, "must name a storage class"));
  }
  try {
    const app = resolveOsintSettings(args.app);
    const p = plan(args);
    problems.push(
      ...checkConnectionBudget(
        "postgres",
        p.maxConnections,
        p.reservedConnections,
        postgresConsumers(args, app),
      ),
      ...checkConnectionBudget("neo4j", neo4jBoltThreads, 0, neo4jConsumers(args, app)),
    );
  } catch (e) {
    problems.push(e as ValidationError);
  }
  return problems;
}

/** What the platform asks of the cluster at full scale (capacity check and namespace quota). */
export function osintDemand(args: OsintArgs): Demand[] {
  const p = plan(args);
  const d = (c: OsintComponent, replicas = 1): Demand => ({
    name: `osint/${c}`,
    replicas,
    resources: osintSize(args.sizing, c),
  });
  return [
    d("postgres"),
    ...["postgres", "elasticsearch", "neo4j"].map((db) => ({ ...d("backup"), name: `osint/${db}-backup` })),
    d("redis"),
    d("elasticsearch"),
    d("elasticsearchSetup"),
    d("kibana"),
    d("rabbitmq"),
    d("neo4j"),
    d("objectStore"),
    d("orchestrator", p.orchestratorReplicas),
    d("collector", p.collector.maxReplicas),
    d("enricher", p.enricher.maxReplicas),
    d("connector"),
    d("opsUi", p.opsUiReplicas),
  ];
}

/** Gi of persistent storage the platform claims. */
export function osintStorageGi(args: OsintArgs): number {
  const scale = args.sizing.storageScale;
  // PostgreSQL, Elasticsearch and Neo4j each have a backup volume.
  return (
    Object.values(baseStorageGi).reduce((sum, gi) => sum + gi * scale, 0) + 2 * baseStorageGi.backup * scale
  );
}

/** A stable UUID derived from a name (the connector's id must not change between updates). */
export function stableUuid(name: string): string {
  const h = createHash("sha256").update(name).digest("hex");
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Internet egress for crawlers: HTTP(S) anywhere except the private ranges (the cluster included). */
const internet: NetworkPeer[] = [
  { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], ports: [80, 443] },
];

/**
 * The OSINT platform (June Dark): PostgreSQL, Elasticsearch with Kibana, Redis, RabbitMQ, Neo4j and an S3
 * object store, the collector and enricher workers (autoscaled), the orchestrator, the OpenCTI connector
 * and the ops UI.
 */
export class Osint extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly opsUrl: string;
  readonly kibanaUrl: string;
  /** Names of the generated Secrets (never their values). */
  readonly secretNames: pulumi.Output<string[]>;

  constructor(name: string, args: OsintArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:osint:Osint", name, {}, opts);
    throwIfInvalid(validateOsintArgs(args));
    const app = resolveOsintSettings(args.app);
    const p = plan(args);
    const partOf = "osint";
    const child = { parent: this };
    const size = (c: OsintComponent) => osintSize(args.sizing, c);
    const storage = (c: keyof typeof baseStorageGi) => `${baseStorageGi[c] * args.sizing.storageScale}Gi`;
    const ingressNs = args.ingressControllerNamespace ?? "ingress-nginx";
    const rotation = args.secretRotation;
    const protect = args.protectData;
    const opsHost = `osint.${args.domain}`;
    const kibanaHost = `kibana.${args.domain}`;
    this.opsUrl = `https://${opsHost}`;
    this.kibanaUrl = `https://${kibanaHost}`;

    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: args.namespace ?? "osint",
        budget: namespaceBudget(osintDemand(args), osintStorageGi(args)),
      },
      child,
    );
    const namespace = ns.name;
    this.namespace = namespace;
    const peers = (...apps: string[]): NetworkPeer[] => apps.map((a) => ({ app: a }));

    const postgres = new Postgres(
      `${name}-postgres`,
      {
        namespace,
        partOf,
        image: args.images.image("postgres"),
        resources: size("postgres"),
        storageClass: args.fastStorageClass,
        storageSize: storage("postgres"),
        database: "osint",
        user: "osint",
        maxConnections: p.maxConnections,
        reservedConnections: p.reservedConnections,
        consumers: postgresConsumers(args, app),
        allowFrom: peers("orchestrator", "collector", "enricher"),
        backup: { ...args.backup, storageClass: args.bulkStorageClass, size: storage("backup") },
        protect,
        rotation,
      },
      child,
    );

    const redis = new Redis(
      `${name}-redis`,
      {
        namespace,
        partOf,
        image: args.images.image("redis"),
        resources: size("redis"),
        // Crawl state and caches carry TTLs: only expiring keys are evicted at the limit.
        evictionPolicy: "volatile-lru",
        persistence: true,
        storageClass: args.fastStorageClass,
        storageSize: storage("redis"),
        allowFrom: peers("orchestrator", "collector", "enricher"),
        rotation,
      },
      child,
    );

    const elasticsearch = new Elasticsearch(
      `${name}-elasticsearch`,
      {
        namespace,
        partOf,
        image: args.images.image("elasticsearch"),
        resources: size("elasticsearch"),
        setupResources: size("elasticsearchSetup"),
        backup: { ...args.backup, storageClass: args.bulkStorageClass, size: storage("backup") },
        storageClass: args.fastStorageClass,
        storageSize: storage("elasticsearch"),
        allowFrom: peers("orchestrator", "collector", "enricher"),
        protect,
        rotation,
      },
      child,
    );

    const kibana = new Kibana(
      `${name}-kibana`,
      {
        namespace,
        partOf,
        image: args.images.image("kibana"),
        resources: size("kibana"),
        elasticsearchUrl: elasticsearch.url,
        password: elasticsearch.kibanaPasswordRef(),
        publicUrl: this.kibanaUrl,
        allowFrom: [{ namespace: ingressNs }],
        rotation,
      },
      child,
    );

    const rabbitmq = new RabbitMQ(
      `${name}-rabbitmq`,
      {
        namespace,
        partOf,
        image: args.images.image("rabbitmq"),
        resources: size("rabbitmq"),
        storageClass: args.fastStorageClass,
        storageSize: storage("rabbitmq"),
        allowFrom: peers("orchestrator", "collector", "enricher", "opencti-connector"),
        protect,
        rotation,
      },
      child,
    );

    const neo4j = new Neo4j(
      `${name}-neo4j`,
      {
        namespace,
        partOf,
        image: args.images.image("neo4j"),
        resources: size("neo4j"),
        storageClass: args.fastStorageClass,
        storageSize: storage("neo4j"),
        backup: { ...args.backup, storageClass: args.bulkStorageClass, size: storage("backup") },
        allowFrom: peers("orchestrator", "enricher"),
        protect,
        rotation,
      },
      child,
    );

    const objectStore = new ObjectStore(
      `${name}-s3`,
      {
        namespace,
        partOf,
        backend: app.objectStore,
        images: args.images,
        resources: size("objectStore"),
        storageClass: args.bulkStorageClass,
        storageSize: storage("objectStore"),
        allowFrom: peers("orchestrator", "collector", "enricher", "opencti-connector"),
        protect,
        rotation,
      },
      child,
    );

    const opencti = new GeneratedSecret(
      `${name}-opencti`,
      {
        namespace,
        secretName: "opencti-token",
        generate: args.openctiToken ? {} : { token: { length: 36 } },
        provided: args.openctiToken ? { token: args.openctiToken } : {},
        rotation,
      },
      child,
    );

    // What every service is told about the data stores (no credential in it).
    const stores = {
      ELASTICSEARCH_URL: elasticsearch.url,
      ELASTICSEARCH_USERNAME: "osint",
      ELASTICSEARCH_INDEX_PREFIX: "osint-",
      NEO4J_URI: neo4j.uri,
      NEO4J_USER: "neo4j",
      RABBITMQ_HOST: rabbitmq.host,
      RABBITMQ_PORT: "5672",
      RABBITMQ_USER: rabbitmq.user,
      RABBITMQ_PREFETCH: String(app.rabbitmqPrefetch),
      REDIS_HOST: redis.host,
      REDIS_PORT: "6379",
      REDIS_POOL_SIZE: String(app.redisPoolSize),
      S3_ENDPOINT: objectStore.endpoint,
      S3_BUCKET: "osint",
    };
    const storeSecrets: Record<string, SecretKeyRef> = {
      ELASTICSEARCH_PASSWORD: elasticsearch.appPasswordRef(),
      RABBITMQ_PASSWORD: rabbitmq.passwordRef(),
      REDIS_PASSWORD: redis.passwordRef(),
      S3_ACCESS_KEY: objectStore.accessKeyRef(),
      S3_SECRET_KEY: objectStore.secretKeyRef(),
    };
    const storeEgress: NetworkPeer[] = [
      { app: "elasticsearch", ports: [9200] },
      { app: "rabbitmq", ports: [5672] },
      { app: "redis", ports: [6379] },
      { app: "s3", ports: [objectStore.port] },
    ];
    const dbPools = { "keel.dev/db-pools": `${postgres.databaseId}=${app.dbPoolSize}` };

    const service = (
      component: "orchestrator" | "collector" | "enricher" | "connector" | "opsUi",
      appName: string,
      image: ImageKey,
      extra: {
        replicas?: number;
        autoscaling?: { minReplicas: number; maxReplicas: number };
        env?: Record<string, pulumi.Input<string>>;
        secretEnv?: Record<string, SecretKeyRef>;
        allowFrom?: NetworkPeer[];
        egressTo?: NetworkPeer[];
        annotations?: Record<string, string>;
      },
    ) =>
      new Workload(
        `${name}-${appName}`,
        {
          namespace,
          appName,
          partOf,
          image: args.images.image(image),
          replicas: extra.replicas,
          autoscaling: extra.autoscaling && {
            ...extra.autoscaling,
            cpuUtilization: 70,
            memoryUtilization: 80,
          },
          resources: size(component),
          bootSeconds: 30,
          probes: standardProbes({ http: { path: "/health", port: 8080 } }, 30),
          ports: [{ name: "http", port: 8080 }],
          env: extra.env,
          secretEnv: extra.secretEnv,
          runAsUser: 10001,
          terminationGracePeriodSeconds: 60,
          allowFrom: extra.allowFrom,
          egressTo: extra.egressTo,
          annotations: extra.annotations,
        },
        { parent: this, dependsOn: [elasticsearch, rabbitmq, neo4j] },
      );

    const orchestrator = service("orchestrator", "orchestrator", "osintOrchestrator", {
      replicas: p.orchestratorReplicas,
      env: { ...stores, DB_POOL_SIZE: String(app.dbPoolSize), NEO4J_POOL_SIZE: String(app.neo4jPoolSize) },
      secretEnv: {
        ...storeSecrets,
        DATABASE_URL: postgres.urlRef(),
        NEO4J_PASSWORD: neo4j.passwordRef(),
      },
      allowFrom: peers("ops-ui"),
      egressTo: [...storeEgress, { app: "postgres", ports: [5432] }, { app: "neo4j", ports: [7687] }],
      annotations: dbPools,
    });
    service("collector", "collector", "osintCollector", {
      autoscaling: p.collector,
      env: {
        ...stores,
        DB_POOL_SIZE: String(app.dbPoolSize),
        CONCURRENT_REQUESTS: String(app.collectorConcurrentRequests),
        DOWNLOAD_DELAY: String(app.collectorDownloadDelaySeconds),
      },
      secretEnv: { ...storeSecrets, DATABASE_URL: postgres.urlRef() },
      allowFrom: peers("orchestrator"),
      egressTo: [...storeEgress, { app: "postgres", ports: [5432] }, ...internet],
      annotations: dbPools,
    });
    service("enricher", "enricher", "osintEnricher", {
      autoscaling: p.enricher,
      env: {
        ...stores,
        DB_POOL_SIZE: String(app.dbPoolSize),
        NEO4J_POOL_SIZE: String(app.neo4jPoolSize),
        BATCH_SIZE: String(app.enricherBatchSize),
      },
      secretEnv: { ...storeSecrets, DATABASE_URL: postgres.urlRef(), NEO4J_PASSWORD: neo4j.passwordRef() },
      allowFrom: peers("orchestrator"),
      egressTo: [
        ...storeEgress,
        { app: "postgres", ports: [5432] },
        { app: "neo4j", ports: [7687] },
        ...internet,
      ],
      annotations: dbPools,
    });
    service("connector", "opencti-connector", "osintConnector", {
      env: {
        OPENCTI_URL: app.openctiUrl || `https://opencti.${args.domain}`,
        CONNECTOR_ID: stableUuid(`${args.domain}/osint/opencti-connector`),
        CONNECTOR_NAME: "June Dark",
        CONNECTOR_TYPE: "EXTERNAL_IMPORT",
        CONNECTOR_SCOPE: "june-dark",
        RABBITMQ_HOST: rabbitmq.host,
        RABBITMQ_USER: rabbitmq.user,
        S3_ENDPOINT: objectStore.endpoint,
      },
      secretEnv: {
        OPENCTI_TOKEN: opencti.ref("token"),
        RABBITMQ_PASSWORD: rabbitmq.passwordRef(),
        S3_ACCESS_KEY: objectStore.accessKeyRef(),
        S3_SECRET_KEY: objectStore.secretKeyRef(),
      },
      egressTo: [
        { app: "rabbitmq", ports: [5672] },
        { app: "s3", ports: [objectStore.port] },
        { namespace: ingressNs, ports: [80, 443] },
        { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], ports: [443] },
      ],
    });
    const opsUi = service("opsUi", "ops-ui", "osintOpsUi", {
      replicas: p.opsUiReplicas,
      env: { ORCHESTRATOR_URL: pulumi.interpolate`http://${orchestrator.serviceName}:8080` },
      allowFrom: [{ namespace: ingressNs }],
      egressTo: [{ app: "orchestrator", ports: [8080] }],
    });

    const ingress = (host: string, component: string, serviceName: pulumi.Input<string>, port: number) =>
      new WebIngress(
        `${name}-${component}-ingress`,
        {
          namespace,
          partOf,
          host,
          serviceName,
          servicePort: port,
          ingressClass: args.ingressClass,
          tls: args.ingressTls,
          skipAwait: args.ingressSkipAwait,
        },
        child,
      );
    ingress(opsHost, "ops", opsUi.serviceName, 8080);
    ingress(kibanaHost, "kibana", kibana.serviceName, 5601);

    this.secretNames = pulumi
      .all([
        postgres.credentials.secretName,
        redis.credentials.secretName,
        elasticsearch.credentials.secretName,
        kibana.keys.secretName,
        rabbitmq.credentials.secretName,
        neo4j.credentials.secretName,
        objectStore.credentials.secretName,
        opencti.secretName,
      ])
      .apply((names) => names as string[]);
    this.registerOutputs({
      namespace: this.namespace,
      opsUrl: this.opsUrl,
      kibanaUrl: this.kibanaUrl,
      secretNames: this.secretNames,
    });
  }
}

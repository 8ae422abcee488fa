import {
  BackupPolicy,
  Demand,
  GeneratedSecret,
  ImageKey,
  ImageResolver,
  IngressTls,
  Namespace,
  NetworkPeer,
  Redis,
  SecretKeyRef,
  SizingProfile,
  ValidationError,
  WebIngress,
  Workload,
  namespaceBudget,
  throwIfInvalid,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { BrowserPool, validateBrowserPoolArgs } from "./browser-pool";
import { ClickHouse } from "./clickhouse";
import { MicroservicesAppSettings, resolveMicroservicesSettings } from "./settings";
import { MicroservicesComponent, baseStorageGi, microservicesSize } from "./sizes";

export interface MicroservicesArgs {
  /** @default "microservices" */
  namespace?: string;
  /** Base domain; ai-service is published at `ai.<domain>`. */
  domain: string;
  sizing: SizingProfile;
  images: ImageResolver;
  /** Storage for ClickHouse and the Redis append-only file. */
  fastStorageClass: string;
  /** Storage for the ClickHouse dumps. */
  bulkStorageClass: string;
  /** Dump schedule and retention of ClickHouse; the volume uses `bulkStorageClass`. */
  backup: Omit<BackupPolicy, "storageClass">;
  ingressClass: string;
  ingressTls: IngressTls;
  /** @default "ingress-nginx" */
  ingressControllerNamespace?: string;
  /** @default false */
  ingressSkipAwait?: boolean;
  /** Protect ClickHouse and Redis from `pulumi destroy`. @default false */
  protectData?: boolean;
  /** @default 0 */
  secretRotation?: number;
  /** Model provider keys (secret config); a service only gets the keys that are set. @default {} */
  providerKeys?: { openai?: pulumi.Input<string>; anthropic?: pulumi.Input<string> };
  /** @default see MicroservicesAppSettings */
  app?: MicroservicesAppSettings;
}

const hostRe = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Autoscaling ranges of the stateless services (the platform's design plan). */
export const microservicesScaling = {
  aiService: { minReplicas: 2, maxReplicas: 10 },
  browserPool: { minReplicas: 2, maxReplicas: 5 },
  auditSink: { minReplicas: 2, maxReplicas: 8 },
  messageQueue: { minReplicas: 2, maxReplicas: 6 },
} as const;

export function validateMicroservicesArgs(args: MicroservicesArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!hostRe.test(args.domain))
    problems.push(new ValidationError("domain", `"${args.domain}" is not a DNS domain`));
  if (!args.fastStorageClass?.trim())
    problems.push(new ValidationError("fastStorageClass", "must name a storage class"));
  try {
    const app = resolveMicroservicesSettings(args.app);
    problems.push(
      ...validateBrowserPoolArgs({
        namespace: "x",
        partOf: "x",
        image: args.images.image("browserPool"),
        resources: microservicesSize(args.sizing, "browserPool"),
        autoscaling: microservicesScaling.browserPool,
        shmGi: app.browserShmGi,
        allowFrom: [],
      }).map((p) => new ValidationError(`browserPool.${p.field}`, p.problem)),
    );
  } catch (e) {
    problems.push(e as ValidationError);
  }
  return problems;
}

const backupResources = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "512Mi" },
};

export function microservicesDemand(args: MicroservicesArgs): Demand[] {
  const d = (c: MicroservicesComponent, replicas = 1): Demand => ({
    name: `microservices/${c}`,
    replicas,
    resources: microservicesSize(args.sizing, c),
  });
  return [
    d("aiService", microservicesScaling.aiService.maxReplicas),
    d("browserPool", microservicesScaling.browserPool.maxReplicas),
    d("auditSink", microservicesScaling.auditSink.maxReplicas),
    d("messageQueue", microservicesScaling.messageQueue.maxReplicas),
    d("redis"),
    d("clickhouse"),
    { name: "microservices/clickhouse-backup", replicas: 1, resources: backupResources },
  ];
}

export function microservicesStorageGi(args: MicroservicesArgs): number {
  return Object.values(baseStorageGi).reduce((s, gi) => s + gi * args.sizing.storageScale, 0);
}

/**
 * The microservices platform: ai-service, a Playwright browser pool, an audit sink writing to ClickHouse and
 * a message queue on Redis Streams (no eviction, append-only persistence), each autoscaled with a PDB.
 */
export class Microservices extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly aiUrl: string;
  readonly secretNames: pulumi.Output<string[]>;

  constructor(name: string, args: MicroservicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:microservices:Microservices", name, {}, opts);
    throwIfInvalid(validateMicroservicesArgs(args));
    const app = resolveMicroservicesSettings(args.app);
    const partOf = "microservices";
    const child = { parent: this };
    const size = (c: MicroservicesComponent) => microservicesSize(args.sizing, c);
    const storage = (c: keyof typeof baseStorageGi) => `${baseStorageGi[c] * args.sizing.storageScale}Gi`;
    const ingressNs = args.ingressControllerNamespace ?? "ingress-nginx";
    const rotation = args.secretRotation;
    const aiHost = `ai.${args.domain}`;
    this.aiUrl = `https://${aiHost}`;

    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: args.namespace ?? "microservices",
        budget: namespaceBudget(microservicesDemand(args), microservicesStorageGi(args)),
      },
      child,
    );
    const namespace = ns.name;
    this.namespace = namespace;

    const keys = new GeneratedSecret(
      `${name}-api-keys`,
      {
        namespace,
        secretName: "service-api-keys",
        generate: { "service-api-key": { length: 48 } },
        provided: {
          ...(args.providerKeys?.openai ? { "openai-api-key": args.providerKeys.openai } : {}),
          ...(args.providerKeys?.anthropic ? { "anthropic-api-key": args.providerKeys.anthropic } : {}),
        },
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
        // A queue must never drop entries: writes fail at the limit instead, and streams are trimmed by length.
        evictionPolicy: "noeviction",
        persistence: true,
        storageClass: args.fastStorageClass,
        storageSize: storage("redis"),
        allowFrom: [{ app: "ai-service" }, { app: "audit-sink" }, { app: "message-queue" }],
        rotation,
      },
      { parent: this, protect: args.protectData ?? false },
    );

    const clickhouse = new ClickHouse(
      `${name}-clickhouse`,
      {
        namespace,
        partOf,
        image: args.images.image("clickhouse"),
        resources: size("clickhouse"),
        storageClass: args.fastStorageClass,
        storageSize: storage("clickhouse"),
        backup: { ...args.backup, storageClass: args.bulkStorageClass, size: storage("backup") },
        allowFrom: [{ app: "audit-sink" }],
        protect: args.protectData,
        rotation,
      },
      child,
    );

    const redisEnv = {
      REDIS_HOST: redis.host,
      REDIS_PORT: "6379",
      REDIS_POOL_SIZE: String(app.redisPoolSize),
    };
    const common: Record<string, SecretKeyRef> = {
      REDIS_PASSWORD: redis.passwordRef(),
      SERVICE_API_KEY: keys.ref("service-api-key"),
    };
    const service = (
      component: "aiService" | "auditSink" | "messageQueue",
      appName: string,
      image: ImageKey,
      port: number,
      extra: {
        env: Record<string, pulumi.Input<string>>;
        secretEnv?: Record<string, SecretKeyRef>;
        allowFrom: NetworkPeer[];
        egressTo: NetworkPeer[];
      },
    ) =>
      new Workload(
        `${name}-${appName}`,
        {
          namespace,
          appName,
          partOf,
          image: args.images.image(image),
          autoscaling: { ...microservicesScaling[component], cpuUtilization: 70, memoryUtilization: 80 },
          resources: size(component),
          bootSeconds: 30,
          probes: {
            startup: {
              http: { path: "/health", port },
              periodSeconds: 5,
              failureThreshold: 12,
              timeoutSeconds: 3,
            },
            readiness: {
              http: { path: "/ready", port },
              periodSeconds: 10,
              failureThreshold: 3,
              timeoutSeconds: 3,
            },
            liveness: {
              http: { path: "/health", port },
              periodSeconds: 10,
              failureThreshold: 3,
              timeoutSeconds: 5,
            },
          },
          ports: [{ name: "http", port }],
          env: { ...redisEnv, PORT: String(port), ...extra.env },
          secretEnv: { ...common, ...extra.secretEnv },
          runAsUser: 1000,
          terminationGracePeriodSeconds: 30,
          allowFrom: extra.allowFrom,
          egressTo: [{ app: "redis", ports: [6379] }, ...extra.egressTo],
          podAnnotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(port) },
        },
        child,
      );

    const streams = {
      STREAM_MAX_LENGTH: String(app.streamMaxLength),
      AUDIT_STREAM: "audit-events",
      EVENTS_STREAM: "events",
    };
    const messageQueue = service("messageQueue", "message-queue", "messageQueue", 8004, {
      env: { ...streams, CONSUMER_GROUP: "message-queue" },
      allowFrom: [{ app: "ai-service" }, { app: "audit-sink" }],
      egressTo: [],
    });
    const auditSink = service("auditSink", "audit-sink", "auditSink", 8003, {
      env: {
        ...streams,
        CONSUMER_GROUP: "audit-sink",
        CLICKHOUSE_URL: clickhouse.url,
        CLICKHOUSE_DB: clickhouse.database,
        CLICKHOUSE_USER: clickhouse.database,
        AUDIT_RETENTION_DAYS: String(app.auditRetentionDays),
        AUDIT_BATCH_SIZE: String(app.auditBatchSize),
      },
      secretEnv: { CLICKHOUSE_PASSWORD: clickhouse.passwordRef() },
      allowFrom: [{ app: "ai-service" }, { app: "message-queue" }],
      egressTo: [
        { app: "clickhouse", ports: [8123] },
        { app: "message-queue", ports: [8004] },
      ],
    });
    const browserPool = new BrowserPool(
      `${name}-browser-pool`,
      {
        namespace,
        partOf,
        image: args.images.image("browserPool"),
        resources: size("browserPool"),
        autoscaling: microservicesScaling.browserPool,
        shmGi: app.browserShmGi,
        allowFrom: [{ app: "ai-service" }],
      },
      child,
    );
    const ai = service("aiService", "ai-service", "aiService", 8001, {
      env: {
        ...streams,
        MESSAGE_QUEUE_URL: pulumi.interpolate`http://${messageQueue.serviceName}:8004`,
        AUDIT_SINK_URL: pulumi.interpolate`http://${auditSink.serviceName}:8003`,
        BROWSER_POOL_WS_ENDPOINT: pulumi.interpolate`ws://${browserPool.serviceName}:8002/`,
        HTTP_POOL_MAX_CONNECTIONS: String(app.aiServiceHttpPoolSize),
        SESSION_TTL_MINUTES: String(app.sessionTtlMinutes),
      },
      secretEnv: {
        ...(args.providerKeys?.openai ? { OPENAI_API_KEY: keys.ref("openai-api-key") } : {}),
        ...(args.providerKeys?.anthropic ? { ANTHROPIC_API_KEY: keys.ref("anthropic-api-key") } : {}),
      },
      allowFrom: [{ namespace: ingressNs }],
      egressTo: [
        { app: "message-queue", ports: [8004] },
        { app: "audit-sink", ports: [8003] },
        { app: "browser-pool", ports: [8002] },
        // Model providers' APIs.
        { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], ports: [443] },
      ],
    });

    new WebIngress(
      `${name}-ai-ingress`,
      {
        namespace,
        partOf,
        host: aiHost,
        serviceName: ai.serviceName,
        servicePort: 8001,
        ingressClass: args.ingressClass,
        tls: args.ingressTls,
        skipAwait: args.ingressSkipAwait,
      },
      child,
    );

    this.secretNames = pulumi
      .all([keys.secretName, redis.credentials.secretName, clickhouse.credentials.secretName])
      .apply((names) => names as string[]);
    this.registerOutputs({ namespace: this.namespace, aiUrl: this.aiUrl, secretNames: this.secretNames });
  }
}

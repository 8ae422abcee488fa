import { ImageKey, IngressTls, NetworkPeer, SecretKeyRef, WebIngress, Workload } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { BrowserPool } from "./browser-pool";
import { microservicesScaling } from "./plan";
import { MicroservicesScope, partOf } from "./scope";
import { MicroservicesStores } from "./stores";

/** The HTTP port of each service built on the shared shape. */
export const servicePorts = { aiService: 8001, auditSink: 8003, messageQueue: 8004 } as const;

type ServiceComponent = keyof typeof servicePorts;

/** One service: its app name and image, and what it is told and may reach beyond Redis. */
interface ServiceSpec {
  component: ServiceComponent;
  appName: string;
  image: ImageKey;
  env: Record<string, pulumi.Input<string>>;
  secretEnv?: Record<string, SecretKeyRef>;
  allowFrom: NetworkPeer[];
  egressTo: NetworkPeer[];
}

/** The platform's services, which the ingress and each other are wired to. */
export interface MicroservicesServices {
  readonly messageQueue: Workload;
  readonly auditSink: Workload;
  readonly browserPool: BrowserPool;
  readonly aiService: Workload;
}

/**
 * The message queue and the audit sink (consumers of the Redis streams), the browser pool, and ai-service in
 * front of them, published at `ai.<domain>`.
 */
export function microservicesServices(
  scope: MicroservicesScope,
  stores: MicroservicesStores,
  tls: IngressTls,
): MicroservicesServices {
  const messageQueue = messageQueueService(scope, stores);
  const auditSink = auditSinkService(scope, stores);
  const browserPool = browserPoolService(scope);
  const aiService = aiServiceAndIngress(scope, stores, { messageQueue, auditSink, browserPool }, tls);
  return { messageQueue, auditSink, browserPool, aiService };
}

/**
 * A service of the shared shape: autoscaled on CPU and memory, `/health` and `/ready` probes, the Redis pool
 * and the service API key, metrics scraped on its port.
 */
function microservice(
  { name, plan, namespace, parent }: MicroservicesScope,
  stores: MicroservicesStores,
  spec: ServiceSpec,
): Workload {
  const port = servicePorts[spec.component];
  const { redis, keys } = stores;
  const probe = (path: string) => ({ http: { path, port } });
  return new Workload(
    `${name}-${spec.appName}`,
    {
      namespace,
      appName: spec.appName,
      partOf,
      image: plan.site.images.image(spec.image),
      autoscaling: { ...microservicesScaling[spec.component], cpuUtilization: 70, memoryUtilization: 80 },
      resources: plan.sizes[spec.component],
      bootSeconds: 30,
      probes: {
        startup: { ...probe("/health"), periodSeconds: 5, failureThreshold: 12, timeoutSeconds: 3 },
        readiness: { ...probe("/ready"), periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
        liveness: { ...probe("/health"), periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
      },
      ports: [{ name: "http", port }],
      env: {
        REDIS_HOST: redis.host,
        REDIS_PORT: String(redis.port),
        REDIS_POOL_SIZE: String(plan.settings.redisPoolSize),
        PORT: String(port),
        ...spec.env,
      },
      secretEnv: {
        REDIS_PASSWORD: redis.passwordRef(),
        SERVICE_API_KEY: keys.ref("service-api-key"),
        ...spec.secretEnv,
      },
      runAsUser: 1000,
      terminationGracePeriodSeconds: 30,
      allowFrom: spec.allowFrom,
      egressTo: [{ app: "redis", ports: [redis.port] }, ...spec.egressTo],
      podAnnotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(port) },
    },
    { parent },
  );
}

/** The streams' names and bound, which every service shares. */
function streams({ plan }: MicroservicesScope): Record<string, string> {
  return {
    STREAM_MAX_LENGTH: String(plan.settings.streamMaxLength),
    AUDIT_STREAM: "audit-events",
    EVENTS_STREAM: "events",
  };
}

function messageQueueService(scope: MicroservicesScope, stores: MicroservicesStores): Workload {
  return microservice(scope, stores, {
    component: "messageQueue",
    appName: "message-queue",
    image: "messageQueue",
    env: { ...streams(scope), CONSUMER_GROUP: "message-queue" },
    allowFrom: [{ app: "ai-service" }, { app: "audit-sink" }],
    egressTo: [],
  });
}

function auditSinkService(scope: MicroservicesScope, stores: MicroservicesStores): Workload {
  const { clickhouse } = stores;
  const app = scope.plan.settings;
  return microservice(scope, stores, {
    component: "auditSink",
    appName: "audit-sink",
    image: "auditSink",
    env: {
      ...streams(scope),
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
      { app: "clickhouse", ports: [clickhouse.port] },
      { app: "message-queue", ports: [servicePorts.messageQueue] },
    ],
  });
}

function browserPoolService({ name, plan, namespace, parent }: MicroservicesScope): BrowserPool {
  return new BrowserPool(
    `${name}-browser-pool`,
    {
      namespace,
      partOf,
      image: plan.site.images.image("browserPool"),
      resources: plan.sizes.browserPool,
      autoscaling: microservicesScaling.browserPool,
      shmGi: plan.settings.browserShmGi,
      allowFrom: [{ app: "ai-service" }],
    },
    { parent },
  );
}

/** ai-service: the only service with an ingress, and the only one that reaches the internet (model APIs). */
function aiServiceAndIngress(
  scope: MicroservicesScope,
  stores: MicroservicesStores,
  peers: Pick<MicroservicesServices, "messageQueue" | "auditSink" | "browserPool">,
  tls: IngressTls,
): Workload {
  const { name, plan, namespace, parent } = scope;
  const { keys } = stores;
  const { messageQueue, auditSink, browserPool } = peers;
  const port = servicePorts.aiService;
  const ai = microservice(scope, stores, {
    component: "aiService",
    appName: "ai-service",
    image: "aiService",
    env: {
      ...streams(scope),
      MESSAGE_QUEUE_URL: pulumi.interpolate`http://${messageQueue.serviceName}:${servicePorts.messageQueue}`,
      AUDIT_SINK_URL: pulumi.interpolate`http://${auditSink.serviceName}:${servicePorts.auditSink}`,
      BROWSER_POOL_WS_ENDPOINT: pulumi.interpolate`ws://${browserPool.serviceName}:${browserPool.port}/`,
      HTTP_POOL_MAX_CONNECTIONS: String(plan.settings.aiServiceHttpPoolSize),
      SESSION_TTL_MINUTES: String(plan.settings.sessionTtlMinutes),
    },
    secretEnv: {
      ...(plan.providerKeys.openai ? { OPENAI_API_KEY: keys.ref("openai-api-key") } : {}),
      ...(plan.providerKeys.anthropic ? { ANTHROPIC_API_KEY: keys.ref("anthropic-api-key") } : {}),
    },
    allowFrom: [{ namespace: plan.site.ingress.controllerNamespace }],
    egressTo: [
      { app: "message-queue", ports: [servicePorts.messageQueue] },
      { app: "audit-sink", ports: [servicePorts.auditSink] },
      { app: "browser-pool", ports: [browserPool.port] },
      // Model providers' APIs.
      { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], ports: [443] },
    ],
  });
  new WebIngress(
    `${name}-ai-ingress`,
    {
      namespace,
      partOf,
      host: plan.aiHost,
      serviceName: ai.serviceName,
      servicePort: port,
      ingressClass: plan.site.ingress.className,
      tls,
      skipAwait: plan.site.ingress.skipAwait,
    },
    { parent },
  );
  return ai;
}

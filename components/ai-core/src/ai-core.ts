import {
  BackupPolicy,
  ConnectionConsumer,
  checkConnectionBudget,
  exemptionKey,
  namespaceBudget,
  GeneratedSecret,
  Demand,
  ImageResolver,
  IngressTls,
  Namespace,
  Postgres,
  Redis,
  SizingProfile,
  ValidationError,
  WebIngress,
  Workload,
  standardProbes,
  throwIfInvalid,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { AiCoreAppSettings, resolveAppSettings, urlPort } from "./settings";
import { aiCoreSize } from "./sizes";

export interface AiCoreArgs {
  /** @default "ai-core" */
  namespace?: string;
  /** Base domain; hosts are `assistant.<domain>` and `auth.<domain>`. */
  domain: string;
  sizing: SizingProfile;
  images: ImageResolver;
  /** Storage class for databases and models. */
  fastStorageClass: string;
  ingressClass: string;
  ingressTls: IngressTls;
  /** Namespace of the ingress controller, allowed to reach the exposed services. @default "ingress-nginx" */
  ingressControllerNamespace?: string;
  /** Don't wait for ingress addresses. @default false */
  ingressSkipAwait?: boolean;
  /** Deploy the GPU speech services (STT and TTS). @default false */
  gpu?: boolean;
  /** Backup schedule and retention; the backup volume uses `bulkStorageClass`. */
  backup: Omit<BackupPolicy, "storageClass">;
  /** Storage class for backups. */
  bulkStorageClass: string;
  /** Protect databases from `pulumi destroy`. @default false */
  protectData?: boolean;
  /** Bump to rotate every generated secret. @default 0 */
  secretRotation?: number;
  /** Pool and cache sizes. @default see AiCoreAppSettings */
  app?: AiCoreAppSettings;
}

const hostRe = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function validateAiCoreArgs(args: AiCoreArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!hostRe.test(args.domain))
    problems.push(new ValidationError("domain", `"${args.domain}" is not a DNS domain`));
  try {
    const app = resolveAppSettings(args.app);
    problems.push(...checkConnectionBudget("postgres", plan(args).maxConnections, 10, consumers(args, app)));
  } catch (e) {
    problems.push(e as ValidationError);
  }
  return problems;
}

/** Every PostgreSQL client and its pool at full scale. */
function consumers(args: AiCoreArgs, app: Required<AiCoreAppSettings>): ConnectionConsumer[] {
  const p = plan(args);
  return [
    { name: "orchestrator", poolSize: app.orchestratorDbPoolSize, maxReplicas: p.orchestrator.maxReplicas },
    { name: "keycloak", poolSize: app.keycloakDbPoolSize, maxReplicas: p.keycloakReplicas },
  ];
}

/** Replica plan shared by the demand calculation and the resources. */
function plan(args: AiCoreArgs) {
  const ha = args.sizing.replicas > 1;
  return {
    keycloakReplicas: ha ? 2 : 1,
    orchestrator: ha ? { minReplicas: 2, maxReplicas: 10 } : { minReplicas: 1, maxReplicas: 3 },
    maxConnections: ha ? 200 : 100,
  };
}

/** What the platform asks of the cluster at full scale (for capacity checks and the namespace quota). */
export function aiCoreDemand(args: AiCoreArgs): Demand[] {
  const p = plan(args);
  const s = (c: Parameters<typeof aiCoreSize>[1]) => aiCoreSize(args.sizing, c);
  return [
    { name: "ai-core/postgres", replicas: 1, resources: s("postgres") },
    { name: "ai-core/postgres-backup", replicas: 1, resources: s("backup") },
    { name: "ai-core/redis", replicas: 1, resources: s("redis") },
    { name: "ai-core/keycloak", replicas: p.keycloakReplicas, resources: s("keycloak") },
    { name: "ai-core/orchestrator", replicas: p.orchestrator.maxReplicas, resources: s("orchestrator") },
    ...(args.gpu
      ? [
          { name: "ai-core/stt", replicas: 1, resources: s("stt") },
          { name: "ai-core/tts", replicas: 1, resources: s("tts") },
        ]
      : []),
  ];
}

/**
 * The AI voice-assistant core: orchestrator, Keycloak, PostgreSQL, Redis and, with a GPU, speech-to-text
 * and text-to-speech services with their models on volumes.
 */
export class AiCore extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly assistantUrl: string;
  readonly authUrl: string;
  /** Names of the generated Secrets an operator may need (never their values). */
  readonly secretNames: pulumi.Output<string[]>;

  constructor(name: string, args: AiCoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:ai:AiCore", name, {}, opts);
    throwIfInvalid(validateAiCoreArgs(args));
    const app = resolveAppSettings(args.app);
    const p = plan(args);
    const partOf = "ai-core";
    const size = (c: Parameters<typeof aiCoreSize>[1]) => aiCoreSize(args.sizing, c);
    const child = { parent: this };
    const ingressNs = args.ingressControllerNamespace ?? "ingress-nginx";
    const assistantHost = `assistant.${args.domain}`;
    const authHost = `auth.${args.domain}`;
    this.assistantUrl = `https://${assistantHost}`;
    this.authUrl = `https://${authHost}`;

    const ns = new Namespace(
      `${name}-ns`,
      { namespaceName: args.namespace ?? "ai-core", budget: namespaceBudget(aiCoreDemand(args)) },
      child,
    );
    const namespace = ns.name;
    this.namespace = namespace;

    const postgres = new Postgres(
      `${name}-postgres`,
      {
        namespace,
        partOf,
        image: args.images.image("postgres"),
        resources: size("postgres"),
        storageClass: args.fastStorageClass,
        storageSize: `${10 * args.sizing.storageScale}Gi`,
        database: "assistant",
        user: "assistant",
        extraDatabases: [{ database: "keycloak", user: "keycloak" }],
        maxConnections: p.maxConnections,
        consumers: [
          {
            name: "orchestrator",
            poolSize: app.orchestratorDbPoolSize,
            maxReplicas: p.orchestrator.maxReplicas,
          },
          { name: "keycloak", poolSize: app.keycloakDbPoolSize, maxReplicas: p.keycloakReplicas },
        ],
        allowFrom: [{ app: "orchestrator" }, { app: "keycloak" }],
        backup: { ...args.backup, storageClass: args.bulkStorageClass },
        protect: args.protectData,
        rotation: args.secretRotation,
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
        // Sessions carry TTLs; only expiring keys are evicted, so live sessions are not lost at the limit.
        evictionPolicy: "volatile-lru",
        persistence: true,
        storageClass: args.fastStorageClass,
        allowFrom: [{ app: "orchestrator" }],
        rotation: args.secretRotation,
      },
      child,
    );

    const keycloakAdmin = new GeneratedSecret(
      `${name}-keycloak-admin`,
      {
        namespace,
        secretName: "keycloak-admin",
        generate: { password: { length: 32 } },
        rotation: args.secretRotation,
      },
      child,
    );

    const keycloak = new Workload(
      `${name}-keycloak`,
      {
        namespace,
        appName: "keycloak",
        partOf,
        image: args.images.image("keycloak"),
        args: ["start"],
        replicas: p.keycloakReplicas,
        resources: size("keycloak"),
        bootSeconds: 120,
        probes: {
          startup: {
            http: { path: "/health/started", port: 9000 },
            periodSeconds: 5,
            failureThreshold: 36,
            timeoutSeconds: 3,
          },
          readiness: {
            http: { path: "/health/ready", port: 9000 },
            periodSeconds: 10,
            failureThreshold: 3,
            timeoutSeconds: 3,
          },
          liveness: {
            http: { path: "/health/live", port: 9000 },
            periodSeconds: 10,
            failureThreshold: 3,
            timeoutSeconds: 3,
          },
        },
        ports: [
          { name: "http", port: 8080 },
          { name: "management", port: 9000, expose: false },
        ],
        env: {
          KC_DB: "postgres",
          KC_DB_URL: pulumi.interpolate`jdbc:postgresql://${postgres.host}:5432/keycloak`,
          KC_DB_USERNAME: "keycloak",
          KC_DB_POOL_MAX_SIZE: String(app.keycloakDbPoolSize),
          KC_HOSTNAME: this.authUrl,
          KC_PROXY_HEADERS: "xforwarded",
          KC_HTTP_ENABLED: "true",
          KC_HEALTH_ENABLED: "true",
          KC_METRICS_ENABLED: "true",
          KC_CACHE: p.keycloakReplicas > 1 ? "ispn" : "local",
          KC_BOOTSTRAP_ADMIN_USERNAME: "admin",
        },
        secretEnv: {
          KC_DB_PASSWORD: postgres.extraPasswordRef("keycloak"),
          KC_BOOTSTRAP_ADMIN_PASSWORD: keycloakAdmin.ref("password"),
        },
        runAsUser: 1000,
        scratchVolumes: [{ name: "data", mountPath: "/opt/keycloak/data", sizeLimit: "256Mi" }],
        critical: true,
        allowFrom: [{ namespace: ingressNs }, { app: "orchestrator" }, { app: "keycloak", ports: [7800] }],
        egressTo: [
          { app: "postgres", ports: [5432] },
          { app: "keycloak", ports: [7800] },
        ],
        annotations: {
          "keel.dev/db-pools": `${postgres.databaseId}=${app.keycloakDbPoolSize}`,
          [exemptionKey("emptydir-cache")]:
            "Keycloak's data directory holds only temporary files and transaction logs; its state lives in PostgreSQL",
        },
      },
      child,
    );

    const speech = args.gpu ? this.speechServices(name, args, namespace, app) : [];

    const orchestrator = new Workload(
      `${name}-orchestrator`,
      {
        namespace,
        appName: "orchestrator",
        partOf,
        image: args.images.image("orchestrator"),
        resources: size("orchestrator"),
        autoscaling: { ...p.orchestrator, cpuUtilization: 70, memoryUtilization: 80 },
        bootSeconds: 30,
        probes: standardProbes({ http: { path: "/healthz", port: 8080 } }, 30),
        ports: [{ name: "http", port: 8080 }],
        env: {
          REDIS_HOST: redis.host,
          REDIS_PORT: "6379",
          REDIS_POOL_SIZE: String(app.orchestratorRedisPoolSize),
          DB_POOL_SIZE: String(app.orchestratorDbPoolSize),
          HTTP_POOL_MAX_CONNECTIONS: String(app.orchestratorHttpPoolSize),
          SESSION_TIMEOUT_HOURS: String(app.sessionTimeoutHours),
          MAX_HISTORY_MESSAGES: String(app.maxHistoryMessages),
          KEYCLOAK_URL: this.authUrl,
          ...(args.gpu ? { STT_URL: "http://stt:8000", TTS_URL: "http://tts:8000" } : {}),
        },
        secretEnv: { REDIS_PASSWORD: redis.passwordRef(), DATABASE_URL: postgres.urlRef() },
        allowFrom: [{ namespace: ingressNs }],
        egressTo: [
          { app: "postgres", ports: [5432] },
          { app: "redis", ports: [6379] },
          { app: "keycloak", ports: [8080] },
          ...(args.gpu
            ? [
                { app: "stt", ports: [8000] },
                { app: "tts", ports: [8000] },
              ]
            : []),
        ],
        annotations: { "keel.dev/db-pools": `${postgres.databaseId}=${app.orchestratorDbPoolSize}` },
      },
      { parent: this, dependsOn: speech },
    );

    const ingress = (host: string, component: string, service: pulumi.Input<string>, port: number) =>
      new WebIngress(
        `${name}-${component}-ingress`,
        {
          namespace,
          partOf,
          host,
          serviceName: service,
          servicePort: port,
          ingressClass: args.ingressClass,
          tls: args.ingressTls,
          skipAwait: args.ingressSkipAwait,
        },
        child,
      );
    ingress(assistantHost, "assistant", orchestrator.serviceName, 8080);
    ingress(authHost, "auth", keycloak.serviceName, 8080);

    this.secretNames = pulumi
      .all([postgres.credentials.secretName, redis.credentials.secretName, keycloakAdmin.secretName])
      .apply((names) => names as string[]);
    this.registerOutputs({
      namespace: this.namespace,
      assistantUrl: this.assistantUrl,
      authUrl: this.authUrl,
      secretNames: this.secretNames,
    });
  }

  private speechServices(
    name: string,
    args: AiCoreArgs,
    namespace: pulumi.Output<string>,
    app: ReturnType<typeof resolveAppSettings>,
  ): Workload[] {
    const speech = (component: "stt" | "tts", bootSeconds: number, env: Record<string, string>) =>
      new Workload(
        `${name}-${component}`,
        {
          namespace,
          appName: component,
          partOf: "ai-core",
          kind: "StatefulSet",
          image: args.images.image(component),
          resources: aiCoreSize(args.sizing, component),
          gpus: 1,
          bootSeconds,
          probes: standardProbes({ http: { path: "/health", port: 8000 } }, bootSeconds),
          ports: [{ name: "http", port: 8000 }],
          // Models come from the volume; what is missing there comes from the site's mirror when one is set,
          // otherwise nothing is downloaded at start.
          env: {
            HF_HUB_OFFLINE: app.modelMirror ? "0" : "1",
            TRANSFORMERS_OFFLINE: app.modelMirror ? "0" : "1",
            ...(app.modelMirror ? { HF_ENDPOINT: app.modelMirror } : {}),
            HF_HOME: "/models",
            XDG_CACHE_HOME: "/models/cache",
            ...env,
          },
          persistentVolumes: [
            { name: "models", mountPath: "/models", size: "20Gi", storageClass: args.fastStorageClass },
          ],
          terminationGracePeriodSeconds: 60,
          allowFrom: [{ app: "orchestrator" }],
          egressTo: app.modelMirror ? [{ cidr: "0.0.0.0/0", ports: [urlPort(app.modelMirror)] }] : [],
        },
        { parent: this },
      );
    return [
      speech("stt", 120, { WHISPER_MODEL: app.sttModel, WHISPER_COMPUTE_TYPE: "int8_float16" }),
      speech("tts", 300, {
        COQUI_TOS_AGREED: "1",
        XTTS_MODEL_PATH: "/models/xtts_v2",
        VOICE_CACHE_SIZE: String(app.ttsVoiceCacheSize),
        WARMUP_ON_STARTUP: "0",
      }),
    ];
  }
}

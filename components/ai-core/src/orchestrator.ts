import { Postgres, Redis, Workload, standardProbes } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { AiCorePlan, partOf } from "./plan";

/** The assistant's orchestrator: autoscaled, bounded pools, started after the speech services it calls. */
export function orchestrator(
  name: string,
  plan: AiCorePlan,
  peers: {
    namespace: pulumi.Output<string>;
    postgres: Postgres;
    redis: Redis;
    /** Keycloak's public URL. */
    authUrl: string;
    /** The speech services (none without a GPU). */
    speech: Workload[];
  },
  parent: pulumi.Resource,
): Workload {
  const { site, settings } = plan;
  const { postgres, redis } = peers;
  return new Workload(
    `${name}-orchestrator`,
    {
      namespace: peers.namespace,
      appName: "orchestrator",
      partOf,
      image: site.images.image("orchestrator"),
      resources: plan.sizes.orchestrator,
      autoscaling: { ...plan.replicas.orchestrator, cpuUtilization: 70, memoryUtilization: 80 },
      bootSeconds: 30,
      probes: standardProbes({ http: { path: "/healthz", port: 8080 } }, 30),
      ports: [{ name: "http", port: 8080 }],
      env: {
        REDIS_HOST: redis.host,
        REDIS_PORT: "6379",
        REDIS_POOL_SIZE: String(settings.orchestratorRedisPoolSize),
        DB_POOL_SIZE: String(settings.orchestratorDbPoolSize),
        HTTP_POOL_MAX_CONNECTIONS: String(settings.orchestratorHttpPoolSize),
        SESSION_TIMEOUT_HOURS: String(settings.sessionTimeoutHours),
        MAX_HISTORY_MESSAGES: String(settings.maxHistoryMessages),
        KEYCLOAK_URL: peers.authUrl,
        ...(plan.speech ? { STT_URL: "http://stt:8000", TTS_URL: "http://tts:8000" } : {}),
      },
      secretEnv: { REDIS_PASSWORD: redis.passwordRef(), DATABASE_URL: postgres.urlRef() },
      allowFrom: [{ namespace: site.ingress.controllerNamespace }],
      egressTo: [
        { app: "postgres", ports: [5432] },
        { app: "redis", ports: [6379] },
        { app: "keycloak", ports: [8080] },
        ...(plan.speech
          ? [
              { app: "stt", ports: [8000] },
              { app: "tts", ports: [8000] },
            ]
          : []),
      ],
      annotations: { "keel.dev/db-pools": `${postgres.databaseId}=${settings.orchestratorDbPoolSize}` },
    },
    { parent, dependsOn: peers.speech },
  );
}

import { GeneratedSecret, Postgres, Workload, exemptionKey } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { AiCorePlan, partOf } from "./plan";

/** Keycloak and its bootstrap admin's generated password. */
export interface AiCoreKeycloak {
  admin: GeneratedSecret;
  workload: Workload;
}

/** Keycloak on its own database and role, health on the management port 9000, clustered when replicated. */
export function aiCoreKeycloak(
  name: string,
  plan: AiCorePlan,
  peers: { namespace: pulumi.Output<string>; postgres: Postgres; authUrl: string },
  parent: pulumi.Resource,
): AiCoreKeycloak {
  const { site, settings } = plan;
  const { namespace, postgres } = peers;
  const admin = new GeneratedSecret(
    `${name}-keycloak-admin`,
    {
      namespace,
      secretName: "keycloak-admin",
      generate: {
        password: {
          length: 32,
          neverRotated:
            "Keycloak creates its bootstrap admin only when the database has no admin; a new password is ignored",
        },
      },
      rotation: site.secretRotation,
    },
    { parent },
  );
  const health = (path: string) => ({ http: { path, port: 9000 }, timeoutSeconds: 3 });
  const workload = new Workload(
    `${name}-keycloak`,
    {
      namespace,
      appName: "keycloak",
      partOf,
      image: site.images.image("keycloak"),
      args: ["start"],
      replicas: plan.replicas.keycloak,
      resources: plan.sizes.keycloak,
      bootSeconds: 120,
      probes: {
        startup: { ...health("/health/started"), periodSeconds: 5, failureThreshold: 36 },
        readiness: { ...health("/health/ready"), periodSeconds: 10, failureThreshold: 3 },
        liveness: { ...health("/health/live"), periodSeconds: 10, failureThreshold: 3 },
      },
      ports: [
        { name: "http", port: 8080 },
        { name: "management", port: 9000, expose: false },
      ],
      env: {
        KC_DB: "postgres",
        KC_DB_URL: pulumi.interpolate`jdbc:postgresql://${postgres.host}:5432/keycloak`,
        KC_DB_USERNAME: "keycloak",
        KC_DB_POOL_MAX_SIZE: String(settings.keycloakDbPoolSize),
        KC_HOSTNAME: peers.authUrl,
        KC_PROXY_HEADERS: "xforwarded",
        KC_HTTP_ENABLED: "true",
        KC_HEALTH_ENABLED: "true",
        KC_METRICS_ENABLED: "true",
        KC_CACHE: plan.replicas.keycloak > 1 ? "ispn" : "local",
        KC_BOOTSTRAP_ADMIN_USERNAME: "admin",
      },
      secretEnv: {
        KC_DB_PASSWORD: postgres.extraPasswordRef("keycloak"),
        KC_BOOTSTRAP_ADMIN_PASSWORD: admin.ref("password"),
      },
      runAsUser: 1000,
      scratchVolumes: [{ name: "data", mountPath: "/opt/keycloak/data", sizeLimit: "256Mi" }],
      critical: true,
      maintenance: site.maintenance,
      allowFrom: [
        { namespace: site.ingress.controllerNamespace },
        { app: "orchestrator" },
        { app: "keycloak", ports: [7800] },
      ],
      egressTo: [
        { app: "postgres", ports: [5432] },
        { app: "keycloak", ports: [7800] },
      ],
      annotations: {
        "keel.dev/db-pools": `${postgres.databaseId}=${settings.keycloakDbPoolSize}`,
        [exemptionKey("emptydir-cache")]:
          "Keycloak's data directory holds only temporary files and transaction logs; its state lives in PostgreSQL",
      },
    },
    { parent },
  );
  return { admin, workload };
}

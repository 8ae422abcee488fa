import { GeneratedSecret, Postgres, Workload } from "@keel/core";
import { SYNAPSE_PORTS } from "../config";
import type { LawfulInterceptPlan } from "../lawful-intercept";
import { NamespaceContext, fromIngress, webIngress } from "../services/context";
import { lawfulInterceptApps as apps } from "./apps";

/** key-vault (the site's build) on its own database beside the replica's, with its ingress. */
export function liKeyVault(
  c: NamespaceContext,
  plan: LawfulInterceptPlan,
  postgres: Postgres,
): { secret: GeneratedSecret; workload: Workload } {
  const child = { parent: c.parent };
  const secret = new GeneratedSecret(
    `${c.name}-key-vault`,
    {
      namespace: c.namespace,
      secretName: "key-vault",
      generate: { "django-secret-key": { length: 64 } },
      rotation: plan.site.secretRotation,
    },
    child,
  );
  const health = { http: { path: "/health/", port: 8000 } };
  const workload = new Workload(
    `${c.name}-key-vault`,
    {
      namespace: c.namespace,
      appName: apps.keyVault,
      partOf: c.partOf,
      image: plan.site.images.image("keyVault"),
      resources: c.resources.keyVault,
      bootSeconds: 60,
      probes: {
        startup: { ...health, periodSeconds: 5, failureThreshold: 12, timeoutSeconds: 3 },
        readiness: { ...health, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
        liveness: { ...health, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
      },
      ports: [{ name: "http", port: 8000 }],
      env: {
        DATABASE_HOST: apps.postgres,
        DATABASE_NAME: "key_vault",
        DATABASE_USER: "key_vault",
        DJANGO_ALLOWED_HOSTS: plan.hosts.keyVault,
        SYNAPSE_URL: `http://${apps.synapse}:${SYNAPSE_PORTS.http}`,
      },
      secretEnv: {
        DATABASE_PASSWORD: postgres.extraPasswordRef("key_vault"),
        DJANGO_SECRET_KEY: secret.ref("django-secret-key"),
      },
      critical: true,
      maintenance: plan.site.maintenance,
      allowFrom: [fromIngress(c)],
      egressTo: [
        { app: apps.postgres, ports: [postgres.port] },
        { app: apps.synapse, ports: [SYNAPSE_PORTS.http] },
      ],
    },
    child,
  );
  webIngress(c, "key-vault", plan.hosts.keyVault, workload.serviceName, 8000);
  return { secret, workload };
}

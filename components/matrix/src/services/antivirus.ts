import { GeneratedSecret, SecretKeyRef } from "@keel/core";
import { Antivirus, antivirusApps } from "../antivirus";
import type { MatrixAntivirusPlan } from "../plan";
import { MatrixContext } from "./context";
import { MatrixRedis, matrixRedis } from "./redis";

/** The antivirus and its queue. */
export interface MatrixAntivirus {
  component: Antivirus;
  queue: MatrixRedis;
}

/**
 * ClamAV for Matrix as planned: clamd and the scan workers, their queue on its own Redis (never evicted),
 * and the workers' admin user, registered through Synapse's registration secret.
 */
export function matrixAntivirus(
  c: MatrixContext,
  av: MatrixAntivirusPlan,
  registrationSecretRef: SecretKeyRef,
): MatrixAntivirus {
  const queue = matrixRedis(c, "av-redis", {
    appName: av.settings.queue.host,
    evictionPolicy: "noeviction",
    allowFrom: [{ app: antivirusApps.scanWorker }, ...c.plan.synapseApps.map((app) => ({ app }))],
  });
  const admin = new GeneratedSecret(
    `${c.name}-av-admin`,
    {
      namespace: c.namespace,
      secretName: "av-admin",
      generate: { password: { length: 32 } },
      rotation: c.site.secretRotation,
    },
    { parent: c.parent },
  );
  const component = new Antivirus(
    `${c.name}-av`,
    {
      ...av.settings,
      namespace: c.namespace,
      queue: { ...av.settings.queue, passwordRef: queue.server.passwordRef() },
      adminLogin: { passwordRef: admin.ref("password"), registrationSecretRef },
    },
    { parent: c.parent },
  );
  return { component, queue };
}

import { GeneratedSecret, Workload } from "@keel/core";
import { OsintDatastores } from "./datastores";
import { OsintScope, publicAddresses } from "./scope";
import { osintService } from "./service";

/** The OpenCTI connector and its API token. */
export interface OpenctiConnector {
  readonly token: GeneratedSecret;
  readonly workload: Workload;
}

/**
 * The OpenCTI connector: pushes what the platform found to OpenCTI (through the cluster's ingress or over
 * HTTPS), reading from the queue and the object store. Its token is the one from secret config, or generated.
 */
export function openctiConnector(scope: OsintScope, stores: OsintDatastores): OpenctiConnector {
  const { name, plan, namespace, parent } = scope;
  const { rabbitmq, objectStore } = stores;
  const provided = plan.openctiToken;
  const token = new GeneratedSecret(
    `${name}-opencti`,
    {
      namespace,
      secretName: "opencti-token",
      generate: provided ? {} : { token: { length: 36 } },
      provided: provided ? { token: provided } : {},
      rotation: plan.site.secretRotation,
    },
    { parent },
  );
  const workload = osintService(scope, stores, {
    component: "connector",
    appName: "opencti-connector",
    image: "osintConnector",
    env: {
      OPENCTI_URL: plan.connector.openctiUrl,
      CONNECTOR_ID: plan.connector.id,
      CONNECTOR_NAME: "June Dark",
      CONNECTOR_TYPE: "EXTERNAL_IMPORT",
      CONNECTOR_SCOPE: "june-dark",
      RABBITMQ_HOST: rabbitmq.host,
      RABBITMQ_USER: rabbitmq.user,
      S3_ENDPOINT: objectStore.endpoint,
    },
    secretEnv: {
      OPENCTI_TOKEN: token.ref("token"),
      RABBITMQ_PASSWORD: rabbitmq.passwordRef(),
      S3_ACCESS_KEY: objectStore.accessKeyRef(),
      S3_SECRET_KEY: objectStore.secretKeyRef(),
    },
    egressTo: [
      { app: "rabbitmq", ports: [rabbitmq.port] },
      { app: "s3", ports: [objectStore.port] },
      { namespace: plan.site.ingress.controllerNamespace, ports: [80, 443] },
      { ...publicAddresses, ports: [443] },
    ],
  });
  return { token, workload };
}

import { IngressTls, WebIngress, Workload } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { OsintDatastores } from "./datastores";
import { Kibana } from "./kibana";
import { OsintScope, partOf } from "./scope";
import { osintService, servicePort } from "./service";

/** What operators open: the ops UI and Kibana, each behind its TLS ingress. */
export interface OsintOpsUis {
  readonly opsUi: Workload;
  readonly kibana: Kibana;
}

/**
 * The ops UI (in front of the orchestrator) and Kibana (on the platform's Elasticsearch, as `kibana_system`),
 * published at `osint.<domain>` and `kibana.<domain>`.
 */
export function osintOpsUis(
  scope: OsintScope,
  stores: OsintDatastores,
  orchestrator: Workload,
  tls: IngressTls,
): OsintOpsUis {
  const { name, plan, namespace, parent } = scope;
  const fromIngress = () => [{ namespace: plan.site.ingress.controllerNamespace }];
  const kibana = new Kibana(
    `${name}-kibana`,
    {
      namespace,
      partOf,
      image: plan.site.images.image("kibana"),
      resources: plan.sizes.kibana,
      elasticsearchUrl: stores.elasticsearch.url,
      password: stores.elasticsearch.kibanaPasswordRef(),
      publicUrl: `https://${plan.hosts.kibana}`,
      allowFrom: fromIngress(),
      rotation: plan.site.secretRotation,
    },
    { parent },
  );
  const opsUi = osintService(scope, stores, {
    component: "opsUi",
    appName: "ops-ui",
    image: "osintOpsUi",
    replicas: plan.replicas.opsUi,
    env: { ORCHESTRATOR_URL: pulumi.interpolate`http://${orchestrator.serviceName}:${servicePort}` },
    allowFrom: fromIngress(),
    egressTo: [{ app: "orchestrator", ports: [servicePort] }],
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
        ingressClass: plan.site.ingress.className,
        tls,
        skipAwait: plan.site.ingress.skipAwait,
      },
      { parent },
    );
  ingress(plan.hosts.ops, "ops", opsUi.serviceName, servicePort);
  ingress(plan.hosts.kibana, "kibana", kibana.serviceName, kibana.port);
  return { opsUi, kibana };
}

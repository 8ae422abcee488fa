import { Workload, standardProbes } from "@keel/core";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderAlertmanagerConfig, webhookUrlDir, webhookUrlKey } from "./alertmanager-config";
import { metricsAnnotations } from "./contract";
import { BuildScope, BuiltPart, appPeer, monitoringApps, monitoringPorts, partOf, peerOf } from "./parts";

/** The webhook URL, only ever in a Secret (Alertmanager reads it from a mounted file). */
function webhookSecret(scope: BuildScope, url: pulumi.Input<string>): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    `${scope.name}-alertmanager-webhook`,
    {
      metadata: {
        name: "alertmanager-webhook",
        namespace: scope.namespace,
        labels: { "app.kubernetes.io/managed-by": "keel" },
      },
      type: "Opaque",
      stringData: { [webhookUrlKey]: pulumi.secret(url) },
    },
    scope.inNs,
  );
}

/**
 * Alertmanager: one replica (no gossip cluster), silences on the fast class, the `null` receiver unless the
 * plan has a webhook. Prometheus (built) and Grafana (built after it) call it.
 */
export function buildAlertmanager(scope: BuildScope, prometheus: BuiltPart): BuiltPart {
  const { name, plan, namespace } = scope;
  const port = monitoringPorts.alertmanager;
  const webhook = plan.alertWebhook;
  const secret = webhook ? webhookSecret(scope, webhook.url) : undefined;
  const workload = new Workload(
    `${name}-alertmanager`,
    {
      namespace,
      appName: monitoringApps.alertmanager,
      partOf,
      kind: "StatefulSet",
      image: plan.site.images.image("alertmanager"),
      args: [
        "--config.file=/etc/alertmanager/config/alertmanager.yml",
        "--storage.path=/alertmanager",
        // One replica: no gossip cluster to form.
        "--cluster.listen-address=",
        `--web.listen-address=:${port}`,
      ],
      resources: plan.sizes.alertmanager,
      bootSeconds: 30,
      probes: standardProbes({ http: { path: "/-/healthy", port } }, 30, {
        http: { path: "/-/ready", port },
      }),
      ports: [{ name: "web", port }],
      runAsUser: 65534,
      persistentVolumes: [
        {
          name: "silences",
          mountPath: "/alertmanager",
          size: `${plan.volumeGi.alertmanager}Gi`,
          storageClass: plan.site.storageClasses.fast,
        },
      ],
      configFiles: [
        {
          name: "config",
          mountPath: "/etc/alertmanager/config",
          files: { "alertmanager.yml": renderAlertmanagerConfig(secret !== undefined) },
        },
      ],
      secretFiles: secret
        ? [{ name: "webhook", mountPath: webhookUrlDir, secretName: secret.metadata.name }]
        : [],
      podAnnotations: metricsAnnotations(port),
      allowFrom: [peerOf(prometheus), appPeer("grafana")],
      egressTo: webhook ? [...webhook.egress] : [],
    },
    scope.inNs,
  );
  return { workload, port };
}

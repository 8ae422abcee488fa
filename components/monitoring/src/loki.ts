import { Workload, standardProbes } from "@keel/core";
import { metricsAnnotations } from "./contract";
import { lokiDataDir, renderLokiConfig } from "./loki-config";
import { BuildScope, BuiltPart, appPeer, monitoringApps, monitoringPorts, partOf, peerOf } from "./parts";

/**
 * Loki: single binary, filesystem storage on the fast class, compactor retention. Alloy and Grafana (built
 * after it) push and query; Prometheus (built) scrapes it.
 */
export function buildLoki(scope: BuildScope, prometheus: BuiltPart): BuiltPart {
  const { name, plan, namespace } = scope;
  const port = monitoringPorts.loki;
  const workload = new Workload(
    `${name}-loki`,
    {
      namespace,
      appName: monitoringApps.loki,
      partOf,
      kind: "StatefulSet",
      image: plan.site.images.image("loki"),
      args: ["-config.file=/etc/loki/config/loki.yaml", "-target=all"],
      resources: plan.sizes.loki,
      bootSeconds: 120,
      probes: standardProbes({ tcp: { port } }, 120, { http: { path: "/ready", port } }),
      ports: [{ name: "http", port }],
      runAsUser: 10001,
      persistentVolumes: [
        {
          name: "store",
          mountPath: lokiDataDir,
          size: `${plan.volumeGi.loki}Gi`,
          storageClass: plan.site.storageClasses.fast,
        },
      ],
      configFiles: [
        {
          name: "config",
          mountPath: "/etc/loki/config",
          files: { "loki.yaml": renderLokiConfig(plan.settings.logRetentionDays) },
        },
      ],
      terminationGracePeriodSeconds: 60,
      podAnnotations: metricsAnnotations(port),
      allowFrom: [appPeer("alloy"), appPeer("grafana"), peerOf(prometheus)],
    },
    scope.inNs,
  );
  return { workload, port };
}

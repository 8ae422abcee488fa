import { Workload, standardProbes } from "@keel/core";
import { ReadRule } from "./api-access";
import { renderAlloyConfig } from "./alloy-config";
import { metricsAnnotations } from "./contract";
import {
  BuildScope,
  BuiltPart,
  addressOf,
  apiReader,
  monitoringApps,
  monitoringPorts,
  partOf,
  peerOf,
  withApiToken,
} from "./parts";

const alloyRules: ReadRule[] = [
  { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] },
];

/**
 * Alloy: pod logs of `namespaces` through the Kubernetes API (no hostPath, no DaemonSet, no root), pushed to
 * Loki (built). Scraped by Prometheus (built).
 */
export function buildAlloy(
  scope: BuildScope,
  peers: { prometheus: BuiltPart; loki: BuiltPart },
  namespaces: readonly string[],
): BuiltPart {
  const { name, plan, namespace } = scope;
  const port = monitoringPorts.alloy;
  apiReader(scope, monitoringApps.alloy, alloyRules);
  const workload = new Workload(
    `${name}-alloy`,
    {
      namespace,
      appName: monitoringApps.alloy,
      partOf,
      image: plan.site.images.image("alloy"),
      args: [
        "run",
        "/etc/alloy/config/config.alloy",
        `--server.http.listen-addr=0.0.0.0:${port}`,
        "--storage.path=/var/lib/alloy/state",
        "--disable-reporting",
      ],
      resources: plan.sizes.alloy,
      bootSeconds: 30,
      probes: standardProbes({ tcp: { port } }, 30, { http: { path: "/-/ready", port } }),
      ports: [{ name: "http", port }],
      runAsUser: 473,
      scratchVolumes: [{ name: "state", mountPath: "/var/lib/alloy/state", sizeLimit: "256Mi" }],
      configFiles: [
        {
          name: "config",
          mountPath: "/etc/alloy/config",
          files: {
            "config.alloy": renderAlloyConfig(namespaces, `http://${addressOf(peers.loki)}/loki/api/v1/push`),
          },
        },
      ],
      podAnnotations: metricsAnnotations(port),
      allowFrom: [peerOf(peers.prometheus)],
      egressTo: [peerOf(peers.loki, true), ...plan.apiServer],
    },
    withApiToken(
      scope,
      "Alloy tails pod logs through the Kubernetes API (loki.source.kubernetes, read-only ClusterRole)",
    ),
  );
  return { workload, port };
}

import { ScrapeTarget, Workload, standardProbes } from "@keel/core";
import { ReadRule } from "./api-access";
import {
  BuildScope,
  BuiltPart,
  apiReader,
  appPeer,
  monitoringApps,
  monitoringPorts,
  partOf,
  withApiToken,
} from "./parts";
import { renderPrometheusConfig, rulesDir } from "./prometheus-config";
import { renderAlertRules } from "./rules";

const prometheusRules: ReadRule[] = [
  { apiGroups: [""], resources: ["endpoints", "nodes", "pods", "services"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
  // The kubelet authorizes /metrics and /metrics/cadvisor as nodes/metrics (volume stats, container memory).
  { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
];

/** What Prometheus watches: the namespaces it discovers pods in, their targets and the TLS probe targets. */
export interface PrometheusScrape {
  /** Every watched namespace, the monitoring namespace included. */
  namespaces: string[];
  targets: readonly ScrapeTarget[];
  /** `host:port` of every TLS endpoint whose certificate is probed. */
  tlsProbeTargets: string[];
}

/**
 * Prometheus: a StatefulSet on the fast class with its alert rules, Kubernetes service discovery over the
 * watched namespaces (a read-only ClusterRole and an API token), alerts to Alertmanager. The parts it scrapes
 * and alerts are built after it: it names them by app.
 */
export function buildPrometheus(scope: BuildScope, scrape: PrometheusScrape): BuiltPart {
  const { name, plan, namespace } = scope;
  const port = monitoringPorts.prometheus;
  apiReader(scope, monitoringApps.prometheus, prometheusRules);
  const workload = new Workload(
    `${name}-prometheus`,
    {
      namespace,
      appName: monitoringApps.prometheus,
      partOf,
      kind: "StatefulSet",
      image: plan.site.images.image("prometheus"),
      args: [
        "--config.file=/etc/prometheus/config/prometheus.yml",
        "--storage.tsdb.path=/prometheus",
        `--storage.tsdb.retention.time=${plan.settings.metricsRetentionDays}d`,
        `--storage.tsdb.retention.size=${plan.prometheusRetentionSize}`,
        `--web.listen-address=:${port}`,
      ],
      resources: plan.sizes.prometheus,
      // Replaying the write-ahead log after a restart takes minutes on a full volume.
      bootSeconds: 300,
      probes: standardProbes({ http: { path: "/-/healthy", port } }, 300, {
        http: { path: "/-/ready", port },
      }),
      ports: [{ name: "web", port }],
      runAsUser: 65534,
      persistentVolumes: [
        {
          name: "tsdb",
          mountPath: "/prometheus",
          size: `${plan.volumeGi.prometheus}Gi`,
          storageClass: plan.site.storageClasses.fast,
        },
      ],
      configFiles: [
        {
          name: "config",
          mountPath: "/etc/prometheus/config",
          files: {
            "prometheus.yml": renderPrometheusConfig({
              namespaces: scrape.namespaces,
              scrapeIntervalSeconds: plan.settings.scrapeIntervalSeconds,
              tlsProbeTargets: scrape.tlsProbeTargets,
              blackboxAddress: `${monitoringApps.blackboxExporter}:${monitoringPorts.blackboxExporter}`,
              alertmanagerAddress: `${monitoringApps.alertmanager}:${monitoringPorts.alertmanager}`,
              kubeStateMetricsApp: monitoringApps.kubeStateMetrics,
              kubeStateMetricsPort: monitoringPorts.kubeStateMetrics,
              kubeletInsecureSkipVerify: plan.kubeletInsecureSkipVerify,
            }),
          },
        },
        {
          name: "rules",
          mountPath: rulesDir,
          files: { "keel-alerts.yml": renderAlertRules(plan.thresholds) },
        },
      ],
      terminationGracePeriodSeconds: 120,
      allowFrom: [appPeer("grafana")],
      egressTo: [
        appPeer("alertmanager", true),
        appPeer("blackboxExporter", true),
        appPeer("kubeStateMetrics", true),
        appPeer("grafana", true),
        appPeer("loki", true),
        appPeer("alloy", true),
        ...scrape.targets.map((t) => ({ namespace: t.namespace, ports: [...new Set(t.ports)].sort() })),
        ...plan.kubelet,
        ...plan.apiServer,
      ],
    },
    withApiToken(
      scope,
      "Prometheus discovers scrape targets through the Kubernetes API (read-only ClusterRole)",
    ),
  );
  return { workload, port };
}

import { Workload, standardProbes } from "@keel/core";
import { ReadRule } from "./api-access";
import {
  BuildScope,
  BuiltPart,
  apiReader,
  monitoringApps,
  monitoringPorts,
  partOf,
  peerOf,
  withApiToken,
} from "./parts";

const kubeStateMetricsRules: ReadRule[] = [
  { apiGroups: [""], resources: ["pods", "resourcequotas"], verbs: ["list", "watch"] },
  { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: ["list", "watch"] },
];

/**
 * kube-state-metrics: only the objects the alerts need (restarts, backup jobs, quotas), only in the watched
 * namespaces, through the Kubernetes API (read-only ClusterRole). Scraped by Prometheus (built).
 */
export function buildKubeStateMetrics(
  scope: BuildScope,
  prometheus: BuiltPart,
  namespaces: string[],
): BuiltPart {
  const { name, plan, namespace } = scope;
  const port = monitoringPorts.kubeStateMetrics;
  const telemetry = monitoringPorts.kubeStateMetricsTelemetry;
  apiReader(scope, monitoringApps.kubeStateMetrics, kubeStateMetricsRules);
  const workload = new Workload(
    `${name}-kube-state-metrics`,
    {
      namespace,
      appName: monitoringApps.kubeStateMetrics,
      partOf,
      image: plan.site.images.image("kubeStateMetrics"),
      args: [
        `--port=${port}`,
        `--telemetry-port=${telemetry}`,
        "--resources=cronjobs,jobs,pods,resourcequotas",
        `--namespaces=${namespaces.join(",")}`,
        "--metric-annotations-allowlist=cronjobs=[keel.dev/backup-of]",
      ],
      resources: plan.sizes.kubeStateMetrics,
      bootSeconds: 30,
      probes: standardProbes({ http: { path: "/livez", port } }, 30, {
        http: { path: "/readyz", port: telemetry },
      }),
      ports: [
        { name: "http", port },
        { name: "telemetry", port: telemetry, expose: false },
      ],
      runAsUser: 65534,
      allowFrom: [peerOf(prometheus)],
      egressTo: [...plan.apiServer],
    },
    withApiToken(
      scope,
      "kube-state-metrics lists pods, jobs, cronjobs and quotas through the Kubernetes API (read-only ClusterRole)",
    ),
  );
  return { workload, port };
}

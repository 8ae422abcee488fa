import { stableYaml } from "@keel/core";
import { metricsKeys, podAnnotationLabel } from "./contract";
import { Json } from "./json";
import { tlsProbeJob } from "./rules";

/** Where Kubernetes mounts a pod's service account token and the cluster CA. */
export const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Where the rendered rule files are mounted in the Prometheus container. */
export const rulesDir = "/etc/prometheus/rules";

export interface PrometheusConfigOptions {
  /** Namespaces whose annotated pods are scraped (the monitoring namespace included). */
  namespaces: string[];
  scrapeIntervalSeconds: number;
  /** `host:port` of every TLS endpoint whose certificate is watched. */
  tlsProbeTargets: string[];
  /** `host:port` of the blackbox exporter. */
  blackboxAddress: string;
  /** `host:port` of Alertmanager. */
  alertmanagerAddress: string;
  /** `app.kubernetes.io/name` of kube-state-metrics (scraped with its own labels kept). */
  kubeStateMetricsApp: string;
  kubeStateMetricsPort: number;
  /** Skip verifying kubelet serving certificates (self-signed on kubeadm clusters). */
  kubeletInsecureSkipVerify: boolean;
}

/** The cAdvisor and kubelet series the alerts and dashboards use; everything else is dropped at scrape. */
const cadvisorMetrics = [
  "container_cpu_cfs_periods_total",
  "container_cpu_cfs_throttled_periods_total",
  "container_cpu_usage_seconds_total",
  "container_memory_working_set_bytes",
  "container_spec_memory_limit_bytes",
];
const kubeletMetrics = [
  "kubelet_volume_stats_available_bytes",
  "kubelet_volume_stats_capacity_bytes",
  "kubelet_volume_stats_used_bytes",
];

const podRelabels = [
  { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
  { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
  { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], target_label: "app" },
  { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_part_of"], target_label: "part_of" },
];

function nodeJob(name: string, path: string, metrics: string[], opts: PrometheusConfigOptions): Json {
  return {
    job_name: name,
    scheme: "https",
    metrics_path: path,
    kubernetes_sd_configs: [{ role: "node" }],
    authorization: { type: "Bearer", credentials_file: `${serviceAccountDir}/token` },
    tls_config: {
      ca_file: `${serviceAccountDir}/ca.crt`,
      insecure_skip_verify: opts.kubeletInsecureSkipVerify,
    },
    relabel_configs: [{ source_labels: ["__meta_kubernetes_node_name"], target_label: "node" }],
    metric_relabel_configs: [
      { action: "keep", source_labels: ["__name__"], regex: metrics.join("|") },
      // Only the watched namespaces: the rest of the cluster is someone else's.
      { action: "keep", source_labels: ["namespace"], regex: opts.namespaces.join("|") },
    ],
  };
}

/** prometheus.yml, rendered deterministically (sorted keys, one setting per line). */
export function renderPrometheusConfig(opts: PrometheusConfigOptions): string {
  const interval = `${opts.scrapeIntervalSeconds}s`;
  const namespaces = [...new Set(opts.namespaces)].sort();
  const sorted = { ...opts, namespaces };
  const portLabel = podAnnotationLabel(metricsKeys.port);
  const jobs: Json[] = [
    { job_name: "prometheus", static_configs: [{ targets: ["localhost:9090"] }] },
    {
      // The scrape contract: running pods annotated keel.dev/metrics-port (docs/conventions.md).
      job_name: "keel-pods",
      kubernetes_sd_configs: [{ role: "pod", namespaces: { names: namespaces } }],
      relabel_configs: [
        { action: "keep", source_labels: [podAnnotationLabel(metricsKeys.port, true)], regex: "true" },
        { action: "drop", source_labels: ["__meta_kubernetes_pod_phase"], regex: "Pending|Succeeded|Failed" },
        {
          action: "replace",
          source_labels: [podAnnotationLabel(metricsKeys.path)],
          regex: "(.+)",
          target_label: "__metrics_path__",
        },
        {
          action: "replace",
          source_labels: ["__meta_kubernetes_pod_ip", portLabel],
          regex: "(.+);(\\d+)",
          replacement: "$1:$2",
          target_label: "__address__",
        },
        ...podRelabels,
      ],
    },
    {
      // Its series describe other pods: their namespace and pod labels are kept as they are.
      job_name: "kube-state-metrics",
      honor_labels: true,
      kubernetes_sd_configs: [{ role: "pod", namespaces: { own_namespace: true } }],
      relabel_configs: [
        {
          action: "keep",
          source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
          regex: opts.kubeStateMetricsApp,
        },
        { action: "drop", source_labels: ["__meta_kubernetes_pod_phase"], regex: "Pending|Succeeded|Failed" },
        {
          action: "replace",
          source_labels: ["__meta_kubernetes_pod_ip"],
          regex: "(.+)",
          replacement: `$1:${opts.kubeStateMetricsPort}`,
          target_label: "__address__",
        },
      ],
    },
    nodeJob("kubelet", "/metrics", kubeletMetrics, sorted),
    nodeJob("cadvisor", "/metrics/cadvisor", cadvisorMetrics, sorted),
  ];
  if (opts.tlsProbeTargets.length > 0) {
    jobs.push({
      job_name: tlsProbeJob,
      metrics_path: "/probe",
      params: { module: ["tls_expiry"] },
      static_configs: [{ targets: [...new Set(opts.tlsProbeTargets)].sort() }],
      relabel_configs: [
        { source_labels: ["__address__"], target_label: "__param_target" },
        { source_labels: ["__param_target"], target_label: "instance" },
        { target_label: "__address__", replacement: opts.blackboxAddress },
      ],
    });
  }
  return stableYaml({
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: [`${rulesDir}/*.yml`],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [opts.alertmanagerAddress] }] }] },
    scrape_configs: jobs,
  });
}

import {
  Demand,
  GeneratedSecret,
  ImageResolver,
  IngressTls,
  Namespace,
  NetworkPeer,
  SizingProfile,
  ValidationError,
  WebIngress,
  Workload,
  namespaceBudget,
  standardProbes,
  throwIfInvalid,
} from "@keel/core";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderAlertmanagerConfig, webhookUrlDir, webhookUrlKey } from "./alertmanager-config";
import { renderAlloyConfig } from "./alloy-config";
import {
  ClusterEndpoint,
  ClusterReader,
  ReadRule,
  apiTokenTransformation,
  clusterEndpointPeers,
  defaultApiServer,
  defaultKubelet,
  validateClusterEndpoint,
} from "./api-access";
import {
  probeCaDir,
  renderBlackboxConfig,
  tlsProbeTarget,
  validateCertificateEndpoints,
} from "./blackbox-config";
import { ScrapeTarget, metricsAnnotations, prometheusApp, validateMetricsEndpoint } from "./contract";
import {
  DashboardName,
  DashboardSpec,
  builtInDashboards,
  dashboardJson,
  dashboardNames,
  validateDashboardSpec,
} from "./dashboards";
import { dashboardsDir, renderDashboardProviders, renderDatasources } from "./grafana-provisioning";
import { lokiDataDir, lokiPort, renderLokiConfig } from "./loki-config";
import { renderPrometheusConfig, rulesDir } from "./prometheus-config";
import { AlertThresholds, renderAlertRules, resolveAlertThresholds, validateAlertThresholds } from "./rules";
import { MonitoringSettings, resolveMonitoringSettings } from "./settings";
import { MonitoringComponent, baseStorageGi, monitoringSize, monitoringStorageGiOf } from "./sizes";

export interface MonitoringArgs {
  /** The Kubernetes namespace of the stack. @default "monitoring" */
  namespace?: string;
  /** Base domain; Grafana is served at `grafana.<domain>`. */
  domain: string;
  sizing: SizingProfile;
  images: ImageResolver;
  /** Storage class of the Prometheus, Alertmanager and Loki volumes. */
  fastStorageClass: string;
  ingressClass: string;
  ingressTls: IngressTls;
  /** Namespace of the ingress controller (let in to Grafana). @default "ingress-nginx" */
  ingressControllerNamespace?: string;
  /** Don't wait for the Grafana ingress address. @default false */
  ingressSkipAwait?: boolean;
  /**
   * Namespaces Prometheus scrapes (pods annotated `keel.dev/metrics-port`) and the metrics ports it may reach
   * there; the monitoring namespace is always scraped. @default []
   */
  targets?: ScrapeTarget[];
  /** Namespaces whose pod logs Alloy ships to Loki. @default the monitoring namespace and every target's */
  logNamespaces?: string[];
  /** Built-in dashboards to provision. @default ["synapse", "postgres", "redis"] */
  dashboards?: DashboardName[];
  /** Further dashboards, as specs rendered like the built-in ones. @default [] */
  extraDashboards?: DashboardSpec[];
  /** @default see AlertThresholds */
  alertThresholds?: AlertThresholds;
  /** `https://` URLs whose certificates are probed for expiry. @default [] */
  certificateEndpoints?: string[];
  /**
   * The CA (PEM) the certificate probes verify against, e.g. the stack's private CA in self-signed mode;
   * without it, the system roots. @default undefined
   */
  probeCaCertificate?: pulumi.Input<string>;
  /**
   * The Alertmanager webhook URL from secret config; overrides `app.alertWebhookUrl`. Stored only in a Secret.
   * @default undefined
   */
  alertWebhookUrl?: pulumi.Input<string>;
  /** Where Alertmanager may deliver webhooks. @default any address on the webhook's port (443 when unknown) */
  alertWebhookEgress?: NetworkPeer[];
  /** The API server's address range and ports (Prometheus, Alloy and kube-state-metrics call it). @default any address on 443 and 6443 */
  apiServer?: ClusterEndpoint;
  /** The kubelets' address range and port (volume stats, cAdvisor). @default any address on 10250 */
  kubelet?: ClusterEndpoint;
  /** Skip verifying kubelet serving certificates (self-signed on kubeadm clusters). @default false */
  kubeletInsecureSkipVerify?: boolean;
  /** Bump to rotate the Grafana admin password. @default 0 */
  secretRotation?: number;
  /** Retention, scrape interval, alert webhook. @default see MonitoringSettings */
  app?: MonitoringSettings;
}

const dns1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const hostRe = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Ports of the stack's own components. */
export const monitoringPorts = {
  prometheus: 9090,
  alertmanager: 9093,
  blackboxExporter: 9115,
  kubeStateMetrics: 8080,
  kubeStateMetricsTelemetry: 8081,
  grafana: 3000,
  loki: lokiPort,
  alloy: 12345,
} as const;

/** App names (Services and NetworkPolicy peers) of the stack's components. */
export const monitoringApps = {
  prometheus: prometheusApp,
  alertmanager: "alertmanager",
  blackboxExporter: "blackbox-exporter",
  kubeStateMetrics: "kube-state-metrics",
  grafana: "grafana",
  loki: "loki",
  alloy: "alloy",
} as const;

/** The components the stack runs, one replica each (see README: why none of them is replicated). */
const components: MonitoringComponent[] = [
  "prometheus",
  "alertmanager",
  "blackboxExporter",
  "kubeStateMetrics",
  "grafana",
  "loki",
  "alloy",
];

function namespaceOf(args: MonitoringArgs): string {
  return args.namespace ?? "monitoring";
}

/** Every namespace Prometheus watches: the monitoring namespace and the targets'. */
function scrapedNamespaces(args: MonitoringArgs): string[] {
  return [...new Set([namespaceOf(args), ...(args.targets ?? []).map((t) => t.namespace)])].sort();
}

function dashboardsOf(args: MonitoringArgs): DashboardSpec[] {
  return [
    ...(args.dashboards ?? dashboardNames).map((n) => builtInDashboards[n]),
    ...(args.extraDashboards ?? []),
  ];
}

/** Pure validation of MonitoringArgs; every problem names its field. */
export function validateMonitoringArgs(args: MonitoringArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!dns1123.test(namespaceOf(args))) {
    problems.push(new ValidationError("namespace", `"${namespaceOf(args)}" is not a DNS-1123 label`));
  }
  if (!hostRe.test(args.domain ?? "")) {
    problems.push(new ValidationError("domain", `"${args.domain}" is not a DNS domain`));
  }
  if (!args.fastStorageClass?.trim()) {
    problems.push(new ValidationError("fastStorageClass", "must name a storage class"));
  }
  (args.targets ?? []).forEach((t, i) => {
    if (!dns1123.test(t.namespace ?? "")) {
      problems.push(
        new ValidationError(`targets[${i}].namespace`, `"${t.namespace}" is not a DNS-1123 label`),
      );
    }
    if (!t.ports?.length)
      problems.push(new ValidationError(`targets[${i}].ports`, "must list the metrics ports"));
    for (const port of t.ports ?? []) problems.push(...validateMetricsEndpoint(port, "/", `targets[${i}]`));
  });
  (args.logNamespaces ?? []).forEach((n, i) => {
    if (!dns1123.test(n))
      problems.push(new ValidationError(`logNamespaces[${i}]`, `"${n}" is not a DNS-1123 label`));
  });
  (args.dashboards ?? []).forEach((d, i) => {
    if (!dashboardNames.includes(d)) {
      problems.push(
        new ValidationError(`dashboards[${i}]`, `must be one of ${dashboardNames.join(", ")}, got "${d}"`),
      );
    }
  });
  (args.extraDashboards ?? []).forEach((d, i) =>
    problems.push(...validateDashboardSpec(d, `extraDashboards[${i}]`)),
  );
  const uids = dashboardsOf(args)
    .filter((d) => d !== undefined)
    .map((d) => d.uid);
  const dup = uids.find((u, i) => uids.indexOf(u) !== i);
  if (dup) problems.push(new ValidationError("extraDashboards", `dashboard uid "${dup}" is used twice`));
  problems.push(...validateAlertThresholds(args.alertThresholds));
  problems.push(...validateCertificateEndpoints(args.certificateEndpoints));
  problems.push(...validateClusterEndpoint("apiServer", args.apiServer));
  problems.push(...validateClusterEndpoint("kubelet", args.kubelet));
  try {
    resolveMonitoringSettings(args.app);
  } catch (e) {
    if (e instanceof ValidationError) problems.push(e);
    else throw e;
  }
  return problems;
}

/** What the stack asks of the cluster (capacity check and namespace quota). */
export function monitoringDemand(args: MonitoringArgs): Demand[] {
  return components.map((c) => ({
    name: `monitoring/${c}`,
    replicas: 1,
    resources: monitoringSize(args.sizing, c),
  }));
}

/** Gi of persistent storage the stack claims. */
export function monitoringStorageGi(args: MonitoringArgs): number {
  return (Object.keys(baseStorageGi) as (keyof typeof baseStorageGi)[]).reduce(
    (sum, c) => sum + monitoringStorageGiOf(args.sizing, c),
    0,
  );
}

/** `--storage.tsdb.retention.size`: 85 % of the volume (Prometheus counts GB in powers of two), so the disk never fills. */
export function prometheusRetentionSize(volumeGi: number): string {
  return `${Math.max(1, Math.floor(volumeGi * 0.85))}GB`;
}

/** The port a plain webhook URL talks to. */
function webhookPort(url: string): number {
  const m = /^(https?):\/\/[^/:]+(?::(\d+))?/.exec(url);
  if (!m) return 443;
  return m[2] ? Number(m[2]) : m[1] === "http" ? 80 : 443;
}

const prometheusRules: ReadRule[] = [
  { apiGroups: [""], resources: ["endpoints", "nodes", "pods", "services"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
  // The kubelet authorizes /metrics and /metrics/cadvisor as nodes/metrics (volume stats, container memory).
  { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
];
const alloyRules: ReadRule[] = [
  { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] },
];
const kubeStateMetricsRules: ReadRule[] = [
  { apiGroups: [""], resources: ["pods", "resourcequotas"], verbs: ["list", "watch"] },
  { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: ["list", "watch"] },
];

/**
 * The monitoring stack in its own namespace: Prometheus (alert rules, Kubernetes service discovery over the
 * watched namespaces), Alertmanager, the blackbox exporter (certificate expiry), kube-state-metrics (restarts,
 * backup jobs, quotas), Grafana with provisioned datasources and dashboards, Loki and Alloy (pod logs through
 * the Kubernetes API).
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly grafanaUrl: string;
  /** The Secret holding Grafana's `admin` password (key `password`). */
  readonly grafanaAdminSecretName: pulumi.Output<string>;
  /** Names of the Secrets the stack generated (never their values). */
  readonly secretNames: pulumi.Output<string[]>;
  /** The peer scraped workloads let in on their metrics port (`allowFrom`). */
  readonly scraperPeer: NetworkPeer;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:monitoring:Monitoring", name, {}, opts);
    throwIfInvalid(validateMonitoringArgs(args));
    const settings = resolveMonitoringSettings(args.app);
    const thresholds = resolveAlertThresholds(args.alertThresholds);
    const partOf = "monitoring";
    const child = { parent: this };
    const nsName = namespaceOf(args);
    const size = (c: MonitoringComponent) => monitoringSize(args.sizing, c);
    const storage = (c: keyof typeof baseStorageGi) => `${monitoringStorageGiOf(args.sizing, c)}Gi`;
    const ingressNs = args.ingressControllerNamespace ?? "ingress-nginx";
    const apps = monitoringApps;
    const ports = monitoringPorts;
    const peer = (
      app: keyof typeof monitoringApps,
      extra: Partial<{ ports: number[] }> = {},
    ): NetworkPeer => ({
      app: apps[app],
      ...extra,
    });
    const apiServer = clusterEndpointPeers(args.apiServer, defaultApiServer);
    const namespaces = scrapedNamespaces(args);
    const grafanaHost = `grafana.${args.domain}`;
    this.grafanaUrl = `https://${grafanaHost}`;
    this.scraperPeer = { app: apps.prometheus, namespace: nsName };

    const ns = new Namespace(
      `${name}-ns`,
      {
        namespaceName: nsName,
        budget: namespaceBudget(monitoringDemand(args), monitoringStorageGi(args)),
      },
      child,
    );
    const namespace = ns.name;
    this.namespace = namespace;
    const inNs = { parent: this, dependsOn: [ns] };
    const apiToken = (reason: string) => ({ ...inNs, transformations: [apiTokenTransformation(reason)] });
    const reader = (app: string, rules: ReadRule[]) =>
      new ClusterReader(
        `${name}-${app}-reader`,
        { namespace, serviceAccount: app, namePrefix: nsName, partOf, rules },
        inNs,
      );

    // Prometheus
    const probeTargets = (args.certificateEndpoints ?? []).map(tlsProbeTarget);
    reader(apps.prometheus, prometheusRules);
    const prometheusVolumeGi = monitoringStorageGiOf(args.sizing, "prometheus");
    new Workload(
      `${name}-prometheus`,
      {
        namespace,
        appName: apps.prometheus,
        partOf,
        kind: "StatefulSet",
        image: args.images.image("prometheus"),
        args: [
          "--config.file=/etc/prometheus/config/prometheus.yml",
          "--storage.tsdb.path=/prometheus",
          `--storage.tsdb.retention.time=${settings.metricsRetentionDays}d`,
          `--storage.tsdb.retention.size=${prometheusRetentionSize(prometheusVolumeGi)}`,
          `--web.listen-address=:${ports.prometheus}`,
        ],
        resources: size("prometheus"),
        // Replaying the write-ahead log after a restart takes minutes on a full volume.
        bootSeconds: 300,
        probes: standardProbes({ http: { path: "/-/healthy", port: ports.prometheus } }, 300, {
          http: { path: "/-/ready", port: ports.prometheus },
        }),
        ports: [{ name: "web", port: ports.prometheus }],
        runAsUser: 65534,
        persistentVolumes: [
          {
            name: "tsdb",
            mountPath: "/prometheus",
            size: `${prometheusVolumeGi}Gi`,
            storageClass: args.fastStorageClass,
          },
        ],
        configFiles: [
          {
            name: "config",
            mountPath: "/etc/prometheus/config",
            files: {
              "prometheus.yml": renderPrometheusConfig({
                namespaces,
                scrapeIntervalSeconds: settings.scrapeIntervalSeconds,
                tlsProbeTargets: probeTargets,
                blackboxAddress: `${apps.blackboxExporter}:${ports.blackboxExporter}`,
                alertmanagerAddress: `${apps.alertmanager}:${ports.alertmanager}`,
                kubeStateMetricsApp: apps.kubeStateMetrics,
                kubeStateMetricsPort: ports.kubeStateMetrics,
                kubeletInsecureSkipVerify: args.kubeletInsecureSkipVerify ?? false,
              }),
            },
          },
          { name: "rules", mountPath: rulesDir, files: { "keel-alerts.yml": renderAlertRules(thresholds) } },
        ],
        terminationGracePeriodSeconds: 120,
        allowFrom: [peer("grafana")],
        egressTo: [
          peer("alertmanager", { ports: [ports.alertmanager] }),
          peer("blackboxExporter", { ports: [ports.blackboxExporter] }),
          peer("kubeStateMetrics", { ports: [ports.kubeStateMetrics] }),
          peer("grafana", { ports: [ports.grafana] }),
          peer("loki", { ports: [ports.loki] }),
          peer("alloy", { ports: [ports.alloy] }),
          ...(args.targets ?? []).map((t) => ({
            namespace: t.namespace,
            ports: [...new Set(t.ports)].sort(),
          })),
          ...clusterEndpointPeers(args.kubelet, defaultKubelet),
          ...apiServer,
        ],
      },
      apiToken("Prometheus discovers scrape targets through the Kubernetes API (read-only ClusterRole)"),
    );

    // Alertmanager
    const plainWebhook = settings.alertWebhookUrl;
    const webhookUrl = args.alertWebhookUrl ?? (plainWebhook !== "" ? plainWebhook : undefined);
    const webhookSecret = webhookUrl
      ? new k8s.core.v1.Secret(
          `${name}-alertmanager-webhook`,
          {
            metadata: {
              name: "alertmanager-webhook",
              namespace,
              labels: { "app.kubernetes.io/managed-by": "keel" },
            },
            type: "Opaque",
            stringData: { [webhookUrlKey]: pulumi.secret(webhookUrl) },
          },
          inNs,
        )
      : undefined;
    const webhookEgress: NetworkPeer[] = webhookUrl
      ? (args.alertWebhookEgress ?? [
          {
            cidr: "0.0.0.0/0",
            ports: [args.alertWebhookUrl === undefined ? webhookPort(plainWebhook) : 443],
          },
        ])
      : [];
    new Workload(
      `${name}-alertmanager`,
      {
        namespace,
        appName: apps.alertmanager,
        partOf,
        kind: "StatefulSet",
        image: args.images.image("alertmanager"),
        args: [
          "--config.file=/etc/alertmanager/config/alertmanager.yml",
          "--storage.path=/alertmanager",
          // One replica: no gossip cluster to form.
          "--cluster.listen-address=",
          `--web.listen-address=:${ports.alertmanager}`,
        ],
        resources: size("alertmanager"),
        bootSeconds: 30,
        probes: standardProbes({ http: { path: "/-/healthy", port: ports.alertmanager } }, 30, {
          http: { path: "/-/ready", port: ports.alertmanager },
        }),
        ports: [{ name: "web", port: ports.alertmanager }],
        runAsUser: 65534,
        persistentVolumes: [
          {
            name: "silences",
            mountPath: "/alertmanager",
            size: storage("alertmanager"),
            storageClass: args.fastStorageClass,
          },
        ],
        configFiles: [
          {
            name: "config",
            mountPath: "/etc/alertmanager/config",
            files: { "alertmanager.yml": renderAlertmanagerConfig(webhookSecret !== undefined) },
          },
        ],
        secretFiles: webhookSecret
          ? [{ name: "webhook", mountPath: webhookUrlDir, secretName: webhookSecret.metadata.name }]
          : [],
        podAnnotations: metricsAnnotations(ports.alertmanager),
        allowFrom: [peer("prometheus"), peer("grafana")],
        egressTo: webhookEgress,
      },
      inNs,
    );

    // Blackbox exporter (certificate expiry)
    const caConfigMap = args.probeCaCertificate
      ? new k8s.core.v1.ConfigMap(
          `${name}-probe-ca`,
          {
            metadata: {
              name: "blackbox-exporter-ca",
              namespace,
              labels: { "app.kubernetes.io/managed-by": "keel" },
            },
            data: { "ca.crt": args.probeCaCertificate },
          },
          inNs,
        )
      : undefined;
    const probePorts = [...new Set(probeTargets.map((t) => Number(t.split(":").pop())))].sort(
      (a, b) => a - b,
    );
    new Workload(
      `${name}-blackbox-exporter`,
      {
        namespace,
        appName: apps.blackboxExporter,
        partOf,
        image: args.images.image("blackboxExporter"),
        args: [
          "--config.file=/etc/blackbox/config/blackbox.yml",
          `--web.listen-address=:${ports.blackboxExporter}`,
        ],
        resources: size("blackboxExporter"),
        probes: standardProbes({ http: { path: "/-/healthy", port: ports.blackboxExporter } }, 10),
        ports: [{ name: "http", port: ports.blackboxExporter }],
        runAsUser: 65534,
        configFiles: [
          {
            name: "config",
            mountPath: "/etc/blackbox/config",
            files: { "blackbox.yml": renderBlackboxConfig(caConfigMap !== undefined) },
          },
          ...(caConfigMap
            ? [{ name: "ca", mountPath: probeCaDir, configMapName: caConfigMap.metadata.name }]
            : []),
        ],
        podAnnotations: metricsAnnotations(ports.blackboxExporter),
        allowFrom: [peer("prometheus")],
        egressTo:
          probePorts.length > 0
            ? [
                { namespace: ingressNs, ports: probePorts },
                { cidr: "0.0.0.0/0", ports: probePorts },
              ]
            : [],
      },
      inNs,
    );

    // kube-state-metrics: only the objects the alerts need, only in the watched namespaces.
    reader(apps.kubeStateMetrics, kubeStateMetricsRules);
    new Workload(
      `${name}-kube-state-metrics`,
      {
        namespace,
        appName: apps.kubeStateMetrics,
        partOf,
        image: args.images.image("kubeStateMetrics"),
        args: [
          `--port=${ports.kubeStateMetrics}`,
          `--telemetry-port=${ports.kubeStateMetricsTelemetry}`,
          "--resources=cronjobs,jobs,pods,resourcequotas",
          `--namespaces=${namespaces.join(",")}`,
          "--metric-annotations-allowlist=cronjobs=[keel.dev/backup-of]",
        ],
        resources: size("kubeStateMetrics"),
        bootSeconds: 30,
        probes: standardProbes({ http: { path: "/livez", port: ports.kubeStateMetrics } }, 30, {
          http: { path: "/readyz", port: ports.kubeStateMetricsTelemetry },
        }),
        ports: [
          { name: "http", port: ports.kubeStateMetrics },
          { name: "telemetry", port: ports.kubeStateMetricsTelemetry, expose: false },
        ],
        runAsUser: 65534,
        allowFrom: [peer("prometheus")],
        egressTo: apiServer,
      },
      apiToken(
        "kube-state-metrics lists pods, jobs, cronjobs and quotas through the Kubernetes API (read-only ClusterRole)",
      ),
    );

    // Loki (single binary, filesystem storage, compactor retention)
    new Workload(
      `${name}-loki`,
      {
        namespace,
        appName: apps.loki,
        partOf,
        kind: "StatefulSet",
        image: args.images.image("loki"),
        args: ["-config.file=/etc/loki/config/loki.yaml", "-target=all"],
        resources: size("loki"),
        bootSeconds: 120,
        probes: standardProbes({ tcp: { port: ports.loki } }, 120, {
          http: { path: "/ready", port: ports.loki },
        }),
        ports: [{ name: "http", port: ports.loki }],
        runAsUser: 10001,
        persistentVolumes: [
          {
            name: "store",
            mountPath: lokiDataDir,
            size: storage("loki"),
            storageClass: args.fastStorageClass,
          },
        ],
        configFiles: [
          {
            name: "config",
            mountPath: "/etc/loki/config",
            files: { "loki.yaml": renderLokiConfig(settings.logRetentionDays) },
          },
        ],
        terminationGracePeriodSeconds: 60,
        podAnnotations: metricsAnnotations(ports.loki),
        allowFrom: [peer("alloy"), peer("grafana"), peer("prometheus")],
      },
      inNs,
    );

    // Alloy: pod logs through the Kubernetes API (no hostPath, no DaemonSet, no root)
    reader(apps.alloy, alloyRules);
    new Workload(
      `${name}-alloy`,
      {
        namespace,
        appName: apps.alloy,
        partOf,
        image: args.images.image("alloy"),
        args: [
          "run",
          "/etc/alloy/config/config.alloy",
          `--server.http.listen-addr=0.0.0.0:${ports.alloy}`,
          "--storage.path=/var/lib/alloy/state",
          "--disable-reporting",
        ],
        resources: size("alloy"),
        bootSeconds: 30,
        probes: standardProbes({ tcp: { port: ports.alloy } }, 30, {
          http: { path: "/-/ready", port: ports.alloy },
        }),
        ports: [{ name: "http", port: ports.alloy }],
        runAsUser: 473,
        scratchVolumes: [{ name: "state", mountPath: "/var/lib/alloy/state", sizeLimit: "256Mi" }],
        configFiles: [
          {
            name: "config",
            mountPath: "/etc/alloy/config",
            files: {
              "config.alloy": renderAlloyConfig(
                args.logNamespaces ?? namespaces,
                `http://${apps.loki}:${ports.loki}/loki/api/v1/push`,
              ),
            },
          },
        ],
        podAnnotations: metricsAnnotations(ports.alloy),
        allowFrom: [peer("prometheus")],
        egressTo: [peer("loki", { ports: [ports.loki] }), ...apiServer],
      },
      apiToken(
        "Alloy tails pod logs through the Kubernetes API (loki.source.kubernetes, read-only ClusterRole)",
      ),
    );

    // Grafana: stateless; datasources and dashboards provisioned, admin password generated.
    const admin = new GeneratedSecret(
      `${name}-grafana-admin`,
      {
        namespace,
        secretName: "grafana-admin",
        generate: { password: { length: 32 } },
        rotation: args.secretRotation,
      },
      inNs,
    );
    this.grafanaAdminSecretName = admin.secretName;
    const dashboards = dashboardsOf(args);
    const grafana = new Workload(
      `${name}-grafana`,
      {
        namespace,
        appName: apps.grafana,
        partOf,
        image: args.images.image("grafana"),
        resources: size("grafana"),
        // A fresh database is migrated at every start (the state is provisioned, not kept).
        bootSeconds: 120,
        probes: standardProbes({ http: { path: "/api/health", port: ports.grafana } }, 120),
        ports: [{ name: "http", port: ports.grafana }],
        env: {
          GF_SERVER_HTTP_PORT: String(ports.grafana),
          GF_SERVER_ROOT_URL: this.grafanaUrl,
          GF_SECURITY_ADMIN_USER: "admin",
          GF_SECURITY_COOKIE_SECURE: "true",
          GF_SECURITY_DISABLE_GRAVATAR: "true",
          GF_AUTH_ANONYMOUS_ENABLED: "false",
          GF_USERS_ALLOW_SIGN_UP: "false",
          // Nothing is fetched from the internet: no plugin preinstall, no update checks, no news feed.
          GF_PLUGINS_PREINSTALL_DISABLED: "true",
          GF_ANALYTICS_REPORTING_ENABLED: "false",
          GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
          GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
          GF_NEWS_NEWS_FEED_ENABLED: "false",
          GF_PATHS_DATA: "/var/lib/grafana",
          GF_PATHS_LOGS: "/var/log/grafana",
          GF_PATHS_PLUGINS: "/var/lib/grafana/plugins",
          GF_PATHS_PROVISIONING: "/etc/grafana/provisioning",
          GF_LOG_MODE: "console",
        },
        secretEnv: { GF_SECURITY_ADMIN_PASSWORD: admin.ref("password") },
        runAsUser: 472,
        scratchVolumes: [
          { name: "state", mountPath: "/var/lib/grafana", sizeLimit: "512Mi" },
          { name: "logs", mountPath: "/var/log/grafana", sizeLimit: "64Mi" },
        ],
        configFiles: [
          {
            name: "datasources",
            mountPath: "/etc/grafana/provisioning/datasources",
            files: {
              "keel.yaml": renderDatasources({
                prometheus: `http://${apps.prometheus}:${ports.prometheus}`,
                loki: `http://${apps.loki}:${ports.loki}`,
                alertmanager: `http://${apps.alertmanager}:${ports.alertmanager}`,
              }),
            },
          },
          {
            name: "dashboard-providers",
            mountPath: "/etc/grafana/provisioning/dashboards",
            files: { "keel.yaml": renderDashboardProviders() },
          },
          {
            name: "dashboards",
            mountPath: dashboardsDir,
            files: Object.fromEntries(dashboards.map((d) => [`${d.uid}.json`, dashboardJson(d)])),
          },
        ],
        podAnnotations: metricsAnnotations(ports.grafana),
        allowFrom: [{ namespace: ingressNs, ports: [ports.grafana] }, peer("prometheus")],
        egressTo: [
          peer("prometheus", { ports: [ports.prometheus] }),
          peer("loki", { ports: [ports.loki] }),
          peer("alertmanager", { ports: [ports.alertmanager] }),
        ],
      },
      inNs,
    );
    new WebIngress(
      `${name}-grafana-ingress`,
      {
        namespace,
        partOf,
        host: grafanaHost,
        serviceName: grafana.serviceName,
        servicePort: ports.grafana,
        ingressClass: args.ingressClass,
        tls: args.ingressTls,
        skipAwait: args.ingressSkipAwait,
      },
      inNs,
    );

    this.secretNames = pulumi.all([admin.secretName]).apply((names) => names as string[]);
    this.registerOutputs({
      namespace: this.namespace,
      grafanaUrl: this.grafanaUrl,
      grafanaAdminSecretName: this.grafanaAdminSecretName,
      secretNames: this.secretNames,
    });
  }
}

import {
  NetworkPeer,
  PlatformPlan,
  ResourceSpec,
  ScrapeTarget,
  Site,
  ValidationError,
  throwIfInvalid,
  ImageKey,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import {
  ClusterEndpoint,
  clusterEndpointPeers,
  defaultApiServer,
  defaultKubelet,
  validateClusterEndpoint,
} from "./api-access";
import { validateCertificateEndpoints } from "./blackbox-config";
import { validateMetricsEndpoint } from "./contract";
import {
  DashboardName,
  DashboardSpec,
  builtInDashboards,
  dashboardNames,
  validateDashboardSpec,
} from "./dashboards";
import {
  AlertThresholds,
  ResolvedAlertThresholds,
  resolveAlertThresholds,
  validateAlertThresholds,
} from "./rules";
import { MonitoringSettings, ResolvedMonitoringSettings, resolveMonitoringSettings } from "./settings";
import { baseStorageGi, monitoringSize, monitoringStorageGiOf } from "./sizes";

/** Every catalogue image the platform may run, whatever its settings (its plan's `images`). */
export const monitoringImages: readonly ImageKey[] = [
  "prometheus",
  "alertmanager",
  "blackboxExporter",
  "grafana",
  "loki",
  "alloy",
  "kubeStateMetrics",
];

/** The monitoring platform's own arguments; everything the site decides comes from the site. */
export interface MonitoringArgs {
  /** The Kubernetes namespace of the stack. @default "monitoring" */
  namespace?: string;
  /** Namespaces whose pod logs Alloy ships to Loki. @default the monitoring namespace and every target's */
  logNamespaces?: string[];
  /** Built-in dashboards to provision. @default ["synapse", "postgres", "redis"] */
  dashboards?: DashboardName[];
  /** Further dashboards, as specs rendered like the built-in ones. @default [] */
  extraDashboards?: DashboardSpec[];
  /** @default see AlertThresholds */
  alertThresholds?: AlertThresholds;
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
  /** Retention, scrape interval, alert webhook. @default see MonitoringSettings */
  app?: MonitoringSettings;
}

/** The components the stack runs, one replica each (see README: why none of them is replicated). */
export const stackComponents = [
  "prometheus",
  "alertmanager",
  "blackboxExporter",
  "kubeStateMetrics",
  "grafana",
  "loki",
  "alloy",
] as const;

export type StackComponent = (typeof stackComponents)[number];
export type StackVolume = keyof typeof baseStorageGi;

/** What the monitoring stack will make; `planMonitoring` computes it and `Monitoring` builds it. */
export interface MonitoringPlan extends PlatformPlan {
  readonly namespace: string;
  readonly settings: ResolvedMonitoringSettings;
  readonly thresholds: ResolvedAlertThresholds;
  /** Requests and limits of each component under the site's sizing profile. */
  readonly sizes: Readonly<Record<StackComponent, ResourceSpec>>;
  /** Volume sizes in Gi (Prometheus, Alertmanager, Loki) and their sum, what the stack claims. */
  readonly volumeGi: Readonly<Record<StackVolume, number>>;
  readonly storageGi: number;
  /** `--storage.tsdb.retention.size` of Prometheus. */
  readonly prometheusRetentionSize: string;
  /** The dashboards Grafana provisions. */
  readonly dashboards: readonly DashboardSpec[];
  readonly grafanaHost: string;
  readonly grafanaUrl: string;
  /** Alertmanager's webhook and where it may deliver; none without a webhook. */
  readonly alertWebhook?: { readonly url: pulumi.Input<string>; readonly egress: readonly NetworkPeer[] };
  /** Egress peers of the API server and of the kubelets. */
  readonly apiServer: readonly NetworkPeer[];
  readonly kubelet: readonly NetworkPeer[];
  readonly kubeletInsecureSkipVerify: boolean;
  /** Namespaces Alloy tails when given; otherwise every watched namespace (known when the stack is built). */
  readonly logNamespaces?: readonly string[];
}

const dns1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function dashboardsOf(args: MonitoringArgs): DashboardSpec[] {
  return [
    ...(args.dashboards ?? dashboardNames).map((n) => builtInDashboards[n]),
    ...(args.extraDashboards ?? []),
  ];
}

/** Pure validation of the platform's own arguments; every problem names its field. */
export function validateMonitoringArgs(args: MonitoringArgs): ValidationError[] {
  const problems: ValidationError[] = [];
  const namespace = args.namespace ?? "monitoring";
  if (!dns1123.test(namespace)) {
    problems.push(new ValidationError("namespace", `"${namespace}" is not a DNS-1123 label`));
  }
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

/** The webhook from secret config, else the plain setting; egress to its port on any address unless given. */
function alertWebhookOf(
  args: MonitoringArgs,
  settings: ResolvedMonitoringSettings,
): MonitoringPlan["alertWebhook"] {
  const plain = settings.alertWebhookUrl;
  const url = args.alertWebhookUrl ?? (plain !== "" ? plain : undefined);
  if (!url) return undefined;
  const port = args.alertWebhookUrl === undefined ? webhookPort(plain) : 443;
  return { url, egress: args.alertWebhookEgress ?? [{ cidr: "0.0.0.0/0", ports: [port] }] };
}

/** Resolves the stack's settings once and computes everything the cluster must hold for it. */
export function planMonitoring(site: Site, args: MonitoringArgs = {}): MonitoringPlan {
  throwIfInvalid(validateMonitoringArgs(args));
  const namespace = args.namespace ?? "monitoring";
  const settings = resolveMonitoringSettings(args.app);
  const sizes = Object.fromEntries(stackComponents.map((c) => [c, monitoringSize(site.sizing, c)])) as Record<
    StackComponent,
    ResourceSpec
  >;
  const volumes = Object.keys(baseStorageGi) as StackVolume[];
  const volumeGi = Object.fromEntries(
    volumes.map((v) => [v, monitoringStorageGiOf(site.sizing, v)]),
  ) as Record<StackVolume, number>;
  const grafanaHost = `grafana.${site.domain}`;
  return {
    site,
    namespace,
    settings,
    thresholds: resolveAlertThresholds(args.alertThresholds),
    sizes,
    volumeGi,
    storageGi: volumes.reduce((sum, v) => sum + volumeGi[v], 0),
    prometheusRetentionSize: prometheusRetentionSize(volumeGi.prometheus),
    dashboards: dashboardsOf(args),
    grafanaHost,
    grafanaUrl: `https://${grafanaHost}`,
    alertWebhook: alertWebhookOf(args, settings),
    apiServer: clusterEndpointPeers(args.apiServer, defaultApiServer),
    kubelet: clusterEndpointPeers(args.kubelet, defaultKubelet),
    kubeletInsecureSkipVerify: args.kubeletInsecureSkipVerify ?? false,
    logNamespaces: args.logNamespaces,
    namespaces: [namespace],
    demand: stackComponents.map((c) => ({ name: `monitoring/${c}`, replicas: 1, resources: sizes[c] })),
    nodePorts: [],
    // Its own components are in its own namespace, which Prometheus always watches.
    scrapeTargets: [],
    images: monitoringImages,
  };
}

/**
 * What the stack watches that other platforms make, known only when it is built: the namespaces it scrapes,
 * the endpoints whose certificates it probes and the CA they are signed by.
 */
export interface MonitoringPeers {
  /**
   * Namespaces Prometheus scrapes (pods annotated `keel.dev/metrics-port`) and the metrics ports it may reach
   * there; the monitoring namespace is always scraped. @default []
   */
  targets?: readonly ScrapeTarget[];
  /** `https://` URLs whose certificates are probed for expiry. @default [] */
  certificateEndpoints?: readonly string[];
  /**
   * The CA (PEM) the certificate probes verify against, e.g. the stack's private CA in self-signed mode;
   * without it, the system roots. @default undefined
   */
  probeCaCertificate?: pulumi.Input<string>;
}

/** Pure validation of the peers `Monitoring` is built with; every problem names its field. */
export function validateMonitoringPeers(peers: MonitoringPeers): ValidationError[] {
  const problems: ValidationError[] = [];
  (peers.targets ?? []).forEach((t, i) => {
    if (!dns1123.test(t.namespace ?? "")) {
      problems.push(
        new ValidationError(`targets[${i}].namespace`, `"${t.namespace}" is not a DNS-1123 label`),
      );
    }
    if (!t.ports?.length)
      problems.push(new ValidationError(`targets[${i}].ports`, "must list the metrics ports"));
    for (const port of t.ports ?? []) problems.push(...validateMetricsEndpoint(port, "/", `targets[${i}]`));
  });
  problems.push(...validateCertificateEndpoints(peers.certificateEndpoints));
  return problems;
}

/** Every namespace Prometheus watches: the monitoring namespace and the targets'. */
export function watchedNamespaces(plan: MonitoringPlan, targets: readonly ScrapeTarget[]): string[] {
  return [...new Set([plan.namespace, ...targets.map((t) => t.namespace)])].sort();
}

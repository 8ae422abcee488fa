import { NetworkPeer, ValidationError } from "@keel/core";

/**
 * The scrape contract (docs/conventions.md, "Metrics"): Prometheus scrapes every running pod of a watched
 * namespace whose pod template carries `keel.dev/metrics-port`, at `keel.dev/metrics-path` (default
 * `/metrics`) over plain HTTP on the pod IP.
 */
export const metricsKeys = {
  port: "keel.dev/metrics-port",
  path: "keel.dev/metrics-path",
} as const;

/** The Prometheus meta label of a pod annotation (dots, slashes and dashes become underscores). */
export function podAnnotationLabel(key: string, present = false): string {
  return `__meta_kubernetes_pod_annotation${present ? "present" : ""}_${key.replace(/[^a-zA-Z0-9]/g, "_")}`;
}

/** Pod annotations that ask Prometheus to scrape `port` at `path`; pass them as a Workload's `podAnnotations`. */
export function metricsAnnotations(port: number, path = "/metrics"): Record<string, string> {
  const problems = validateMetricsEndpoint(port, path);
  if (problems.length > 0) throw problems[0];
  return { [metricsKeys.port]: String(port), [metricsKeys.path]: path };
}

export function validateMetricsEndpoint(port: number, path: string, field = "metrics"): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push(new ValidationError(`${field}.port`, `must be a port from 1 to 65535, got ${port}`));
  }
  if (!/^\/[\w./-]*$/.test(path)) {
    problems.push(new ValidationError(`${field}.path`, `must be an absolute URL path, got "${path}"`));
  }
  return problems;
}

/** The app label of Prometheus in the monitoring namespace. */
export const prometheusApp = "prometheus";

/**
 * The peer a scraped workload lets in on its metrics port (its `allowFrom`): Prometheus in the monitoring
 * namespace.
 */
export function scrapedBy(monitoringNamespace = "monitoring", ports?: number[]): NetworkPeer {
  return { app: prometheusApp, namespace: monitoringNamespace, ...(ports ? { ports } : {}) };
}

/**
 * A namespace Prometheus watches, and the metrics ports it may reach there (its NetworkPolicy egress): core's
 * type, what every platform's plan lists in `scrapeTargets`.
 */
export type { ScrapeTarget } from "@keel/core";

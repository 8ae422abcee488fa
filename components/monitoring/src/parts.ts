import { NetworkPeer, Workload } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { ClusterReader, ReadRule, apiTokenTransformation } from "./api-access";
import { prometheusApp } from "./contract";
import { lokiPort } from "./loki-config";
import type { MonitoringPlan } from "./plan";

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

export type MonitoringApp = keyof typeof monitoringApps;

export const partOf = "monitoring";

/**
 * What every part of the stack is built in: the component's name (prefix of every child's name), its plan,
 * the namespace and the options of a resource in it (parented to the component, after the namespace).
 */
export interface BuildScope {
  readonly name: string;
  readonly plan: MonitoringPlan;
  readonly namespace: pulumi.Output<string>;
  readonly inNs: pulumi.ComponentResourceOptions;
}

/**
 * A part built so far: its workload (whose app label and Service name peers use) and the port it serves.
 * Parts built later are not objects yet when an earlier one needs them: those are named by `appPeer`.
 */
export interface BuiltPart {
  readonly workload: Workload;
  readonly port: number;
}

/** The NetworkPolicy peer of a built part, on its port when `withPort`. */
export function peerOf(part: BuiltPart, withPort = false): NetworkPeer {
  return withPort ? { app: part.workload.appName, ports: [part.port] } : { app: part.workload.appName };
}

/** `<service>:<port>`, the in-namespace address of a built part (its Service is named after its app). */
export function addressOf(part: BuiltPart): string {
  return `${part.workload.appName}:${part.port}`;
}

/** The NetworkPolicy peer of a part not built yet, by its app name (on its port when `withPort`). */
export function appPeer(app: MonitoringApp, withPort = false): NetworkPeer {
  return withPort
    ? { app: monitoringApps[app], ports: [monitoringPorts[app]] }
    : { app: monitoringApps[app] };
}

/** A read-only ClusterRole bound to the ServiceAccount of `app` (core's Workload names it after its app). */
export function apiReader(scope: BuildScope, app: string, rules: ReadRule[]): ClusterReader {
  return new ClusterReader(
    `${scope.name}-${app}-reader`,
    { namespace: scope.namespace, serviceAccount: app, namePrefix: scope.plan.namespace, partOf, rules },
    scope.inNs,
  );
}

/** Options of a workload whose pods call the Kubernetes API: its token is mounted, with `reason` recorded. */
export function withApiToken(scope: BuildScope, reason: string): pulumi.ComponentResourceOptions {
  return { ...scope.inNs, transformations: [apiTokenTransformation(reason)] };
}

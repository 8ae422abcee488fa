import { Demand, ResourceSpec, SizingProfile, sized } from "@keel/core";

/** Base sizes (the `small` profile); other profiles scale them. */
export const baseSizes = {
  prometheus: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
  alertmanager: { requests: { cpu: "25m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
  blackboxExporter: { requests: { cpu: "25m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
  kubeStateMetrics: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
  grafana: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  loki: { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  alloy: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  // The exporters platforms run next to their databases (their demand belongs to the platform).
  postgresExporter: { requests: { cpu: "25m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
  redisExporter: { requests: { cpu: "25m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
} satisfies Record<string, ResourceSpec>;

export type MonitoringComponent = keyof typeof baseSizes;
export type ExporterKind = "postgresExporter" | "redisExporter";

/** Base volume sizes in Gi (scaled by the profile's storage factor). */
export const baseStorageGi = {
  prometheus: 20,
  alertmanager: 1,
  loki: 20,
} as const;

export function monitoringSize(profile: SizingProfile, component: MonitoringComponent): ResourceSpec {
  return sized(profile, baseSizes[component]);
}

/** The volume size of a component under the profile, in Gi. */
export function monitoringStorageGiOf(profile: SizingProfile, component: keyof typeof baseStorageGi): number {
  return Math.ceil(baseStorageGi[component] * profile.storageScale);
}

/**
 * What one exporter asks of the cluster: a platform that runs a `PostgresExporter` or `RedisExporter` adds this
 * to its own demand (and so to its namespace quota).
 */
export function exporterDemand(profile: SizingProfile, kind: ExporterKind, name: string): Demand {
  return { name, replicas: 1, resources: monitoringSize(profile, kind) };
}

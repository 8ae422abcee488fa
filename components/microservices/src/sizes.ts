import { ResourceSpec, SizingProfile, sized } from "@keel/core";

/** Base sizes (the `small` profile). The browser pool's memory limit covers the memory-backed /dev/shm. */
export const baseSizes = {
  aiService: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  browserPool: { requests: { cpu: "250m", memory: "1536Mi" }, limits: { cpu: "1", memory: "3Gi" } },
  auditSink: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
  messageQueue: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
  redis: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  clickhouse: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
} satisfies Record<string, ResourceSpec>;

export type MicroservicesComponent = keyof typeof baseSizes;

/** Base volume sizes in Gi. */
export const baseStorageGi = { clickhouse: 20, redis: 5, backup: 20 } as const;

export function microservicesSize(profile: SizingProfile, c: MicroservicesComponent): ResourceSpec {
  return sized(profile, baseSizes[c]);
}

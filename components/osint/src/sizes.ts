import { ResourceSpec, SizingProfile, sized } from "@keel/core";

/** Base sizes (the `small` profile); other profiles scale them. JVM services get request = limit memory headroom. */
export const baseSizes = {
  postgres: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
  backup: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  redis: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "250m", memory: "512Mi" } },
  elasticsearch: { requests: { cpu: "500m", memory: "3Gi" }, limits: { cpu: "1500m", memory: "4Gi" } },
  elasticsearchSetup: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
  kibana: { requests: { cpu: "200m", memory: "768Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  rabbitmq: { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  neo4j: { requests: { cpu: "250m", memory: "1536Mi" }, limits: { cpu: "1", memory: "2Gi" } },
  objectStore: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
  orchestrator: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  collector: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  enricher: { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  connector: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
  opsUi: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
} satisfies Record<string, ResourceSpec>;

export type OsintComponent = keyof typeof baseSizes;

/** Base volume sizes in Gi (scaled by the profile's storage factor). */
export const baseStorageGi = {
  postgres: 20,
  elasticsearch: 50,
  rabbitmq: 10,
  neo4j: 30,
  objectStore: 100,
  redis: 5,
  backup: 20,
} as const;

export function osintSize(profile: SizingProfile, component: OsintComponent): ResourceSpec {
  return sized(profile, baseSizes[component]);
}

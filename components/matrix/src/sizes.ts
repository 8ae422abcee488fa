import { ResourceSpec, SizingProfile, sized } from "@keel/core";

/** Base sizes (the `small` profile); Synapse worker sizes are per pod. */
export const baseSizes = {
  synapseMain: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  synapseWorker: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  postgres: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
  pgbouncer: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "250m", memory: "64Mi" } },
  redis: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
  haproxy: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
  objectStore: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  elementWeb: { requests: { cpu: "25m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
  synapseAdmin: { requests: { cpu: "25m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
  lkJwtService: { requests: { cpu: "25m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
  keyVault: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
  syncJob: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
} satisfies Record<string, ResourceSpec>;

export type MatrixComponent = keyof typeof baseSizes;

export function matrixSize(profile: SizingProfile, component: MatrixComponent): ResourceSpec {
  return sized(profile, baseSizes[component]);
}

/** Every component's requests and limits for the profile. */
export function matrixSizes(profile: SizingProfile): Record<MatrixComponent, ResourceSpec> {
  return Object.fromEntries(
    (Object.keys(baseSizes) as MatrixComponent[]).map((c) => [c, matrixSize(profile, c)]),
  ) as Record<MatrixComponent, ResourceSpec>;
}

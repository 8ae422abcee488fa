import { ResourceSpec, SizingProfile, sized } from "@keel/core";

/** Base sizes (the `small` profile); other profiles scale them. Keycloak's limits fix audit finding F1. */
export const baseSizes = {
  postgres: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  redis: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  keycloak: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
  orchestrator: { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
  stt: { requests: { cpu: "1", memory: "6Gi" }, limits: { cpu: "2", memory: "8Gi" } },
  tts: { requests: { cpu: "1", memory: "4Gi" }, limits: { cpu: "2", memory: "6Gi" } },
  backup: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
} satisfies Record<string, ResourceSpec>;

export type AiCoreComponent = keyof typeof baseSizes;

export function aiCoreSize(profile: SizingProfile, component: AiCoreComponent): ResourceSpec {
  // GPU services are sized by their model, not by the profile.
  return component === "stt" || component === "tts"
    ? baseSizes[component]
    : sized(profile, baseSizes[component]);
}

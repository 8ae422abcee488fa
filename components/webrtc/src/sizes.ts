import { ResourceSpec, SizingProfile, sized } from "@keel/core";

/** Base sizes (the `small` profile). */
export const baseSizes = {
  livekit: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  redis: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
  stunnerd: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
  coturn: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
} satisfies Record<string, ResourceSpec>;

export type WebRtcComponent = keyof typeof baseSizes;

export function webrtcSize(profile: SizingProfile, component: WebRtcComponent): ResourceSpec {
  return sized(profile, baseSizes[component]);
}

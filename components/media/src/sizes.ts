import { ResourceSpec, SizingProfile, sized } from "@keel/core";

/** Base sizes (the `small` profile); Jellyfin's CPU limit is what software transcoding can use. */
export const baseSizes = {
  jellyfin: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } },
  prowlarr: { requests: { cpu: "50m", memory: "192Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  sonarr: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
  radarr: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
  lidarr: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
  qbittorrent: { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "1", memory: "2Gi" } },
  seerr: { requests: { cpu: "50m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
} satisfies Record<string, ResourceSpec>;

export type MediaApp = keyof typeof baseSizes;

/** Config volume sizes in Gi (Jellyfin's holds its metadata and image cache). */
export const configGi: Record<MediaApp, number> = {
  jellyfin: 10,
  prowlarr: 1,
  sonarr: 2,
  radarr: 2,
  lidarr: 2,
  qbittorrent: 1,
  seerr: 1,
};

export function mediaSize(profile: SizingProfile, app: MediaApp): ResourceSpec {
  return sized(profile, baseSizes[app]);
}

import { ResourceSpec, scaleResources } from "./resources";

/** The sizing profiles a stack can choose. */
export const sizingProfileNames = ["small", "medium", "large"] as const;
export type SizingProfileName = (typeof sizingProfileNames)[number];

/** How a profile turns a component's base size into replicas, resources and storage. */
export interface SizingProfile {
  name: SizingProfileName;
  /** Replicas for stateless services that can run more than one copy. */
  replicas: number;
  /** Multiplier applied to base requests and limits. */
  resourceScale: number;
  /** Multiplier applied to base volume sizes. */
  storageScale: number;
}

const profiles: Record<SizingProfileName, SizingProfile> = {
  small: { name: "small", replicas: 1, resourceScale: 1, storageScale: 1 },
  medium: { name: "medium", replicas: 2, resourceScale: 1.5, storageScale: 2 },
  large: { name: "large", replicas: 3, resourceScale: 2, storageScale: 4 },
};

export function sizingProfile(name: SizingProfileName): SizingProfile {
  return profiles[name];
}

/** Scales a base size by the profile. */
export function sized(profile: SizingProfile, base: ResourceSpec): ResourceSpec {
  return profile.resourceScale === 1 ? base : scaleResources(base, profile.resourceScale);
}

/** Scales a base volume size in Gi by the profile ("10Gi" → "40Gi" in large). */
export function sizedStorage(profile: SizingProfile, baseGi: number): string {
  return `${Math.ceil(baseGi * profile.storageScale)}Gi`;
}

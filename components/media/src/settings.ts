import { ValidationError, nodePortRange } from "@keel/core";

/** Settings of the media stack. */
export interface MediaAppSettings {
  /** Time zone of the apps (schedules, logs). @default "Etc/UTC" */
  timezone?: string;
  /** Size of the shared media library in Gi. @default 100 × the profile's storage scale */
  libraryGi?: number;
  /** BitTorrent listen port, advertised to peers as-is (a node port in the static band 30000–30085, safe from dynamic allocation). @default 30083 */
  torrentPort?: number;
}

export interface ResolvedMediaSettings {
  timezone: string;
  libraryGi?: number;
  torrentPort: number;
}

export const appSettingDefaults: ResolvedMediaSettings = { timezone: "Etc/UTC", torrentPort: 30083 };

/** Fills defaults and validates; errors name `<field>.<key>`. */
export function resolveMediaSettings(s: MediaAppSettings | undefined, field = "app"): ResolvedMediaSettings {
  const merged = { ...appSettingDefaults, ...s };
  if (typeof merged.timezone !== "string" || !/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(merged.timezone)) {
    throw new ValidationError(
      `${field}.timezone`,
      `must be a tz database name such as Europe/Paris, got "${merged.timezone}"`,
    );
  }
  if (
    merged.libraryGi !== undefined &&
    (!Number.isInteger(merged.libraryGi) || merged.libraryGi < 1 || merged.libraryGi > 1_000_000)
  ) {
    throw new ValidationError(
      `${field}.libraryGi`,
      `must be an integer from 1 to 1000000, got ${merged.libraryGi}`,
    );
  }
  const p = merged.torrentPort;
  if (!Number.isInteger(p) || p < nodePortRange.min || p > nodePortRange.max) {
    throw new ValidationError(
      `${field}.torrentPort`,
      `must be a node port from ${nodePortRange.min} to ${nodePortRange.max} (advertised to peers as-is), got ${p}`,
    );
  }
  return merged;
}

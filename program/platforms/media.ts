import { planAs } from "@keel/core";
import { Media, MediaAppSettings, MediaPlan, appSettingDefaults, planMedia } from "@keel/media";
import { PlatformEntry } from "./entry";

export const media: PlatformEntry<MediaPlan, Media, MediaAppSettings> = {
  name: "media",
  settingKeys: [...Object.keys(appSettingDefaults), "libraryGi"],
  plan: ({ site }, app) => planAs("keel:media", () => planMedia(site, { app })),
  build(plan, { tls }) {
    const media = new Media("media", { plan, tls });
    return {
      component: media,
      outputs: { namespaces: { media: media.namespace }, endpoints: { ...media.urls } },
    };
  },
};

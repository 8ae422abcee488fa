import { planAs } from "@keel/core";
import { Media, MediaPlan, appSettingDefaults, planMedia } from "@keel/media";
import { PlatformEntry } from "./entry";

export const media: PlatformEntry<MediaPlan, Media> = {
  name: "media",
  settingKeys: [...Object.keys(appSettingDefaults), "libraryGi"],
  plan: ({ site, cfg }) => planAs("keel:media", () => planMedia(site, { app: cfg.media })),
  build(plan, { tls }) {
    const media = new Media("media", { plan, tls });
    return {
      component: media,
      outputs: { namespaces: { media: media.namespace }, endpoints: { ...media.urls } },
    };
  },
};

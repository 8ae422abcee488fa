export { mediaApps, type MediaAppSpec } from "./apps";
export {
  Media,
  type MediaArgs,
  type MediaBuildArgs,
  type MediaPlan,
  mediaUid,
  planMedia,
  validateMediaArgs,
} from "./media";
export {
  appSettingDefaults,
  type MediaAppSettings,
  type ResolvedMediaSettings,
  resolveMediaSettings,
} from "./settings";
export { baseSizes, configGi, type MediaApp, mediaSize } from "./sizes";

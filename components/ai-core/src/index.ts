export { AiCore, type AiCoreArgs, aiCoreDemand, validateAiCoreArgs } from "./ai-core";
export { type AiCoreAppSettings, appSettingDefaults, resolveAppSettings, urlPort } from "./settings";
export { type AiCoreComponent, aiCoreSize, baseSizes } from "./sizes";

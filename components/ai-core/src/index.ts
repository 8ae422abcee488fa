export { AiCore, type AiCoreBuildArgs } from "./ai-core";
export { type AiCoreArgs, type AiCorePlan, planAiCore, validateAiCoreArgs } from "./plan";
export { type AiCoreAppSettings, appSettingDefaults, resolveAppSettings, urlPort } from "./settings";
export { type AiCoreComponent, aiCoreSize, baseSizes } from "./sizes";

export { BrowserPool, type BrowserPoolArgs, pwuserUid, validateBrowserPoolArgs } from "./browser-pool";
export { ClickHouse, type ClickHouseArgs, clickhouseDumpScript, renderClickhouseConfig } from "./clickhouse";
export { Microservices, type MicroservicesBuildArgs } from "./microservices";
export {
  type MicroservicesArgs,
  type MicroservicesPlan,
  microservicesScaling,
  planMicroservices,
  type ProviderKeys,
  validateMicroservicesArgs,
} from "./plan";
export {
  appSettingDefaults,
  type MicroservicesAppSettings,
  type ResolvedMicroservicesSettings,
  resolveMicroservicesSettings,
} from "./settings";
export { baseSizes, baseStorageGi, type MicroservicesComponent, microservicesSize } from "./sizes";

export { BrowserPool, type BrowserPoolArgs, pwuserUid, validateBrowserPoolArgs } from "./browser-pool";
export { ClickHouse, type ClickHouseArgs, clickhouseDumpScript, renderClickhouseConfig } from "./clickhouse";
export {
  Microservices,
  type MicroservicesArgs,
  microservicesDemand,
  microservicesScaling,
  microservicesStorageGi,
  validateMicroservicesArgs,
} from "./microservices";
export {
  appSettingDefaults,
  type MicroservicesAppSettings,
  type ResolvedMicroservicesSettings,
  resolveMicroservicesSettings,
} from "./settings";
export { baseSizes, baseStorageGi, type MicroservicesComponent, microservicesSize } from "./sizes";

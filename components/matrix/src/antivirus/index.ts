export {
  Antivirus,
  antivirusApps,
  antivirusConcurrentReload,
  antivirusDemand,
  type AntivirusModuleEntry,
  type AntivirusSynapseIntegration,
  antivirusSynapseModule,
  clamavUser,
  clamdBootSeconds,
} from "./antivirus";
export {
  type AntivirusArgs,
  type AntivirusSettings,
  type FailMode,
  parseSynapseSize,
  resolveAntivirusArgs,
  type ResolvedAntivirusArgs,
  type ScanQueue,
  type ScanQueueLocation,
  type SignatureSource,
  urlHostPort,
  validateAntivirusArgs,
  validateAntivirusSettings,
} from "./args";
export {
  clamavPaths,
  clamavSize,
  type ClamdConfInput,
  clamdMaxThreads,
  clamdPort,
  clamdScanLimits,
  clamdTmpBytes,
  concurrentReloadFits,
  type FreshclamConfInput,
  renderClamdConf,
  renderClamdRunScript,
  renderFreshclamConf,
} from "./clamav-conf";
export { renderScanWorkerScript, scanWorkerFileName } from "./scan-worker-script";
export {
  antivirusBaseSizes,
  type AntivirusComponent,
  antivirusSize,
  clamdMinMemoryBytes,
  defaultSignatureMemory,
  scanHeadroomBytes,
} from "./sizes";
export {
  avCheckerFileName,
  avCheckerModule,
  avCheckerModuleDir,
  avCheckerPasswordEnv,
  renderAvCheckerModule,
} from "./synapse-module";

export {
  PostgresBackup,
  type PostgresBackupArgs,
  postgresBackupScript,
  postgresRestoreScript,
} from "./backup";
export { type BackupPolicy, validateBackupPolicy } from "./backup-policy";
export { BatchJob, type BatchJobArgs, validateBatchJobArgs } from "./batch-job";
export {
  type Capacity,
  checkCapacity,
  type Demand,
  type DemandTotals,
  namespaceBudget,
  resizeFactor,
  totalDemand,
} from "./capacity";
export {
  CertificateAuthority,
  type CertificateAuthorityArgs,
  ServerCertificate,
  type ServerCertificateArgs,
  validateServerCertificateArgs,
} from "./certificates";
export {
  annotations,
  appLabels,
  exemptionKey,
  exemptionPrefix,
  keelKeyPrefix,
  managedBy,
  namespaceLabels,
  selectorLabels,
} from "./conventions";
export { type ImageRef, imageBaseName, parseImage, splitReference } from "./contract/image-reference";
export { throwIfInvalid, ValidationError } from "./errors";
export {
  formatImage,
  imageCatalog,
  type ImageKey,
  ImageResolver,
  isPinnedTag,
  type PinnedImage,
  rewriteRegistry,
  validatePinnedImage,
} from "./images";
export { type IngressTls, WebIngress, type WebIngressArgs } from "./ingress";
export {
  containerDefaultsWithin,
  Namespace,
  type NamespaceArgs,
  type NamespaceBudget,
  type PodSecurityException,
  validateNamespaceArgs,
} from "./namespace";
export { dnsEgress, type NetworkPeer, toPolicyPeer, toPolicyPorts } from "./network";
export {
  nodePortRange,
  type NodePortRange,
  NodePortServices,
  type NodePortServicesArgs,
  splitPortRange,
  validateNodePortServicesArgs,
} from "./node-ports";
export { ObjectStore, type ObjectStoreArgs, validateObjectStoreArgs } from "./object-store";
export {
  type ObjectStoreBackend,
  objectStoreBackends,
  type S3BackendAdapter,
  s3Backends,
  type S3Credentials,
} from "./object-store-backends";
export {
  PgBouncer,
  type PgBouncerArgs,
  type PoolMode,
  poolModes,
  renderPgBouncerIni,
  validatePgBouncerArgs,
} from "./pgbouncer";
export {
  extraDatabasesInitScript,
  Postgres,
  type PostgresArgs,
  publicationInitScript,
  validatePostgresArgs,
} from "./postgres";
export {
  checkConnectionBudget,
  type ConnectionConsumer,
  postgresArgs,
  postgresTuning,
  type PostgresTuning,
} from "./postgres-tuning";
export {
  defaultMaxLivenessDetectionSeconds,
  detectionSeconds,
  type ProbeCheck,
  type Probes,
  type ProbeSpec,
  standardProbes,
  startupBudget,
  toK8sProbe,
  validateProbes,
} from "./probes";
export { formatCpu, formatMemory, parseCpu, parseMemory } from "./quantity";
export {
  evictionPolicies,
  type EvictionPolicy,
  Redis,
  type RedisArgs,
  redisMaxmemory,
  validateRedisArgs,
} from "./redis";
export { stableJson, stableYaml } from "./render";
export {
  type CpuMemory,
  type ResourceSpec,
  scaleResources,
  toK8sResources,
  validateResources,
} from "./resources";
export { ScheduledBackup, type ScheduledBackupArgs, validateScheduledBackupArgs } from "./scheduled-backup";
export { secretReason } from "./secret-detection";
export {
  GeneratedSecret,
  type GeneratedSecretArgs,
  type GeneratedValue,
  validateGeneratedSecretArgs,
} from "./secrets";
export { sharedClaim, type SharedClaimArgs } from "./shared-claim";
export {
  sized,
  sizedStorage,
  sizingProfile,
  type SizingProfile,
  type SizingProfileName,
  sizingProfileNames,
} from "./sizing";
export {
  type ConfigFiles,
  type PersistentVolume,
  type ScratchVolume,
  type SecretFiles,
  type SecretKeyRef,
  type SharedVolume,
} from "./volumes";
export {
  type Autoscaling,
  type CapabilityException,
  type HostNetworkException,
  validateWorkloadArgs,
  Workload,
  type WorkloadArgs,
  type WorkloadPort,
} from "./workload";
export {
  checkPlans,
  type PlatformPlan,
  planAs,
  resolveSite,
  type ScrapeTarget,
  type Site,
  type SiteArgs,
  siteDefaults,
  validateSiteArgs,
} from "./site";

import type { Rule } from "./core/rule";
import { automountServiceAccountToken } from "./rules/automount-service-account-token";
import { capabilities } from "./rules/capabilities";
import { clusterAdminBinding } from "./rules/cluster-admin-binding";
import { configmapSecret } from "./rules/configmap-secret";
import { containerProbes } from "./rules/container-probes";
import { containerResources } from "./rules/container-resources";
import { cronjobConcurrencyPolicy } from "./rules/cronjob-concurrency-policy";
import { cronjobStartingDeadline } from "./rules/cronjob-starting-deadline";
import { defaultNamespace } from "./rules/default-namespace";
import { deprecatedApi } from "./rules/deprecated-api";
import { duplicateEnvVar } from "./rules/duplicate-env-var";
import { emptydirCache } from "./rules/emptydir-cache";
import { envLiteralSecret } from "./rules/env-literal-secret";
import { exemptionHasReason } from "./rules/exemption-has-reason";
import { hostNamespaces } from "./rules/host-namespaces";
import { hostPath } from "./rules/host-path";
import { hostPorts } from "./rules/host-ports";
import { imageRegistry } from "./rules/image-registry";
import { ingressTls } from "./rules/ingress-tls";
import { jobTtl } from "./rules/job-ttl";
import { livenessDetectionTime } from "./rules/liveness-detection-time";
import { mutableImageTag } from "./rules/mutable-image-tag";
import { namespacePodSecurity } from "./rules/namespace-pod-security";
import { placeholderValue } from "./rules/placeholder-value";
import { privilegeEscalation } from "./rules/privilege-escalation";
import { privilegedContainer } from "./rules/privileged-container";
import { pvcStorageClass } from "./rules/pvc-storage-class";
import { readOnlyRootFilesystem } from "./rules/read-only-root-filesystem";
import { rootChownInit } from "./rules/root-chown-init";
import { runAsNonRoot } from "./rules/run-as-non-root";
import { seccompProfile } from "./rules/seccomp-profile";
import { serviceExposure } from "./rules/service-exposure";
import { startupBudget } from "./rules/startup-budget";
import { acmeAirGapped } from "./stack-rules/acme-air-gapped";
import { backupRetention } from "./stack-rules/backup-retention";
import { capacityFit } from "./stack-rules/capacity-fit";
import { dbConnectionBudget } from "./stack-rules/db-connection-budget";
import { elasticsearchHeap } from "./stack-rules/elasticsearch-heap";
import { hpaRequired } from "./stack-rules/hpa-required";
import { hpaTargetExists } from "./stack-rules/hpa-target-exists";
import { liIsolation } from "./stack-rules/li-isolation";
import { namespaceDefaultDeny } from "./stack-rules/namespace-default-deny";
import { namespaceLimitRange } from "./stack-rules/namespace-limit-range";
import { namespaceQuota } from "./stack-rules/namespace-quota";
import { pdbRequired } from "./stack-rules/pdb-required";
import { podNetworkPolicy } from "./stack-rules/pod-network-policy";
import { postgresMemory } from "./stack-rules/postgres-memory";
import { redisMaxmemory } from "./stack-rules/redis-maxmemory";
import { selectorMatchesPods } from "./stack-rules/selector-matches-pods";

/** Rules over one object at a time (src/rules/<id>.ts). */
export const RESOURCE_RULES: readonly Rule[] = [
  automountServiceAccountToken,
  capabilities,
  clusterAdminBinding,
  configmapSecret,
  containerProbes,
  containerResources,
  cronjobConcurrencyPolicy,
  cronjobStartingDeadline,
  defaultNamespace,
  deprecatedApi,
  duplicateEnvVar,
  emptydirCache,
  envLiteralSecret,
  exemptionHasReason,
  hostNamespaces,
  hostPath,
  hostPorts,
  imageRegistry,
  ingressTls,
  jobTtl,
  livenessDetectionTime,
  mutableImageTag,
  namespacePodSecurity,
  placeholderValue,
  privilegeEscalation,
  privilegedContainer,
  pvcStorageClass,
  readOnlyRootFilesystem,
  rootChownInit,
  runAsNonRoot,
  seccompProfile,
  serviceExposure,
  startupBudget,
];

/** Rules over the whole stack (src/stack-rules/<id>.ts). */
export const STACK_RULES: readonly Rule[] = [
  acmeAirGapped,
  backupRetention,
  capacityFit,
  dbConnectionBudget,
  elasticsearchHeap,
  hpaRequired,
  hpaTargetExists,
  liIsolation,
  namespaceDefaultDeny,
  namespaceLimitRange,
  namespaceQuota,
  pdbRequired,
  podNetworkPolicy,
  postgresMemory,
  redisMaxmemory,
  selectorMatchesPods,
];

export const ALL_RULES: readonly Rule[] = [...RESOURCE_RULES, ...STACK_RULES];

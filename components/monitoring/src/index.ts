export { renderAlertmanagerConfig, webhookUrlDir, webhookUrlKey } from "./alertmanager-config";
export { type AlloyBlock, type AlloyValue, renderAlloy, renderAlloyConfig } from "./alloy-config";
export {
  apiTokenTransformation,
  type ClusterEndpoint,
  clusterEndpointPeers,
  ClusterReader,
  type ClusterReaderArgs,
  defaultApiServer,
  defaultKubelet,
  type ReadRule,
  validateClusterEndpoint,
  validateReadRules,
} from "./api-access";
export {
  probeCaDir,
  renderBlackboxConfig,
  tlsProbeTarget,
  validateCertificateEndpoints,
} from "./blackbox-config";
export {
  metricsAnnotations,
  metricsKeys,
  podAnnotationLabel,
  prometheusApp,
  scrapedBy,
  type ScrapeTarget,
  validateMetricsEndpoint,
} from "./contract";
export {
  builtInDashboards,
  dashboardJson,
  type DashboardName,
  dashboardNames,
  dashboardSchemaVersion,
  type DashboardSpec,
  type PanelSpec,
  postgresDashboard,
  prometheusDatasource,
  type QuerySpec,
  redisDashboard,
  renderDashboard,
  type RowSpec,
  synapseDashboard,
  validateDashboardSpec,
} from "./dashboards";
export {
  exporterAppName,
  PostgresExporter,
  type PostgresExporterArgs,
  postgresExporterPort,
  RedisExporter,
  type RedisExporterArgs,
  redisExporterPort,
  validatePostgresExporterArgs,
  validateRedisExporterArgs,
} from "./exporters";
export {
  dashboardsDir,
  type DatasourceUrls,
  renderDashboardProviders,
  renderDatasources,
} from "./grafana-provisioning";
export { lokiDataDir, lokiPort, renderLokiConfig } from "./loki-config";
export { Monitoring, type MonitoringBuildArgs } from "./monitoring";
export { type MonitoringApp, monitoringApps, monitoringPorts } from "./parts";
export {
  type MonitoringArgs,
  type MonitoringPeers,
  type MonitoringPlan,
  planMonitoring,
  prometheusRetentionSize,
  stackComponents,
  type StackComponent,
  type StackVolume,
  validateMonitoringArgs,
  validateMonitoringPeers,
  watchedNamespaces,
} from "./plan";
export {
  type PrometheusConfigOptions,
  renderPrometheusConfig,
  rulesDir,
  serviceAccountDir,
} from "./prometheus-config";
export {
  type AlertGroup,
  alertGroups,
  type AlertRule,
  type AlertThresholds,
  defaultAlertThresholds,
  renderAlertRules,
  resolveAlertThresholds,
  type ResolvedAlertThresholds,
  type Severity,
  tlsProbeJob,
  validateAlertThresholds,
} from "./rules";
export {
  monitoringSettingDefaults,
  type MonitoringSettings,
  type ResolvedMonitoringSettings,
  resolveMonitoringSettings,
} from "./settings";
export {
  baseSizes,
  baseStorageGi,
  exporterDemand,
  type ExporterKind,
  type MonitoringComponent,
  monitoringSize,
  monitoringStorageGiOf,
} from "./sizes";

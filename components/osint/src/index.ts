export { Elasticsearch, type ElasticsearchArgs, validateElasticsearchArgs } from "./elasticsearch";
export {
  elasticsearchHeapMb,
  elasticsearchJavaOpts,
  elasticsearchSettings,
  elasticsearchSetupScript,
  elasticsearchSnapshotScript,
  snapshotPath,
} from "./elasticsearch-config";
export { Kibana, type KibanaArgs, kibanaHeapMb } from "./kibana";
export {
  Neo4j,
  type Neo4jArgs,
  neo4jBoltThreads,
  neo4jDumpScript,
  neo4jMemory,
  neo4jStartScript,
  renderNeo4jConf,
} from "./neo4j";
export { Osint, type OsintBuildArgs } from "./osint";
export {
  type OsintArgs,
  type OsintPlan,
  type OsintReplicas,
  planOsint,
  stableUuid,
  validateOsintArgs,
} from "./plan";
export { openctiBrokerSettings, RabbitMQ, type RabbitMQArgs, renderRabbitmqConf } from "./rabbitmq";
export {
  appSettingDefaults,
  type OsintAppSettings,
  type ResolvedOsintSettings,
  resolveOsintSettings,
} from "./settings";
export { baseSizes, baseStorageGi, type OsintComponent, osintSize } from "./sizes";

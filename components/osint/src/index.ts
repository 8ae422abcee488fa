export {
  Elasticsearch,
  type ElasticsearchArgs,
  elasticsearchHeapMb,
  elasticsearchJavaOpts,
  elasticsearchSettings,
  elasticsearchSetupScript,
  elasticsearchSnapshotScript,
  snapshotPath,
  validateElasticsearchArgs,
} from "./elasticsearch";
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
export { Osint, type OsintArgs, osintDemand, osintStorageGi, stableUuid, validateOsintArgs } from "./osint";
export { openctiBrokerSettings, RabbitMQ, type RabbitMQArgs, renderRabbitmqConf } from "./rabbitmq";
export {
  appSettingDefaults,
  type OsintAppSettings,
  type ResolvedOsintSettings,
  resolveOsintSettings,
} from "./settings";
export { baseSizes, baseStorageGi, type OsintComponent, osintSize } from "./sizes";

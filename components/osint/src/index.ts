export * from "./elasticsearch";
export * from "./kibana";
export * from "./neo4j";
export * from "./osint";
export * from "./rabbitmq";
export * from "./settings";
export * from "./sizes";

export * from "./browser-pool";
export * from "./clickhouse";
export * from "./microservices";
export * from "./settings";
export * from "./sizes";

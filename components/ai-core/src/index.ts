export * from "./ai-core";
export * from "./settings";
export * from "./sizes";

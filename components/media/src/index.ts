export * from "./apps";
export * from "./media";
export * from "./settings";
export * from "./sizes";

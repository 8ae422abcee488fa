export * from "./antivirus";
export * from "./clients";
export * from "./config";
export * from "./lawful-intercept";
export * from "./matrix";
export * from "./settings";
export * from "./sizes";
export * from "./synapse";

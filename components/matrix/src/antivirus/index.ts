export * from "./antivirus";
export * from "./args";
export * from "./clamav-conf";
export * from "./scan-worker-script";
export * from "./sizes";
export * from "./synapse-module";

export * from "./antivirus";
export * from "./config";

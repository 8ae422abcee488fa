export * from "./coturn";
export * from "./crds";
export * from "./livekit";
export * from "./settings";
export * from "./sizes";
export * from "./stunner";
export * from "./webrtc";

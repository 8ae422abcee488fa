export {
  Coturn,
  type CoturnArgs,
  coturnExceptionReason,
  deniedPeerRanges,
  renderTurnserverConf,
  type TurnserverConfigInput,
} from "./coturn";
export { type CrdSpec, gatewayCrds, GatewayCrds } from "./crds";
export {
  LiveKit,
  LIVEKIT_METRICS_PORT,
  type LiveKitArgs,
  type LiveKitConfigInput,
  renderLiveKitConfig,
} from "./livekit";
export { planWebRtc, validateWebRtcArgs, type WebRtcArgs, type WebRtcPlan } from "./plan";
export {
  appSettingDefaults,
  ownStunServer,
  type ResolvedWebRtcSettings,
  resolveWebRtcSettings,
  turnHost,
  type WebRtcAppSettings,
} from "./settings";
export { baseSizes, type WebRtcComponent, webrtcSize } from "./sizes";
export {
  renderStunnerdConfig,
  Stunner,
  type StunnerArgs,
  stunnerdArgs,
  stunnerdConfigDir,
  stunnerdConfigFile,
  type StunnerdConfigInput,
  stunnerdConfigText,
  stunnerTurnNodePort,
  turnListener,
} from "./stunner";
export { WebRtc, type WebRtcBuildArgs } from "./webrtc";

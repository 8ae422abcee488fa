import { planAs } from "@keel/core";
import { lkJwtApp } from "@keel/matrix";
import { WebRtc, WebRtcAppSettings, WebRtcPlan, appSettingDefaults, planWebRtc } from "@keel/webrtc";
import { PlatformEntry } from "./entry";

export const webrtc: PlatformEntry<WebRtcPlan, WebRtc, WebRtcAppSettings> = {
  name: "webrtc",
  settingKeys: Object.keys(appSettingDefaults),
  plan: ({ site, enabled }, app) =>
    planAs("keel:webrtc", () =>
      planWebRtc(site, {
        app,
        // Matrix's token service creates rooms through LiveKit's API.
        livekitClients: enabled.includes("matrix") ? [{ app: lkJwtApp, namespace: "matrix" }] : [],
      }),
    ),
  build(plan, { tls }) {
    const webrtc = new WebRtc("webrtc", { plan, tls });
    return {
      component: webrtc,
      outputs: {
        namespaces: {
          webrtc: webrtc.namespace,
          ...(webrtc.turnNamespace ? { turn: webrtc.turnNamespace } : {}),
        },
        endpoints: { livekit: webrtc.livekitUrl },
        generatedSecrets: webrtc.secretNames,
      },
    };
  },
};

import { planAs } from "@keel/core";
import { lkJwtApp } from "@keel/matrix";
import { WebRtc, WebRtcPlan, appSettingDefaults, planWebRtc } from "@keel/webrtc";
import { PlatformEntry } from "./entry";

export const webrtc: PlatformEntry<WebRtcPlan, WebRtc> = {
  name: "webrtc",
  settingKeys: Object.keys(appSettingDefaults),
  plan: ({ site, cfg }) =>
    planAs("keel:webrtc", () =>
      planWebRtc(site, {
        app: cfg.webrtc,
        // Matrix's token service creates rooms through LiveKit's API.
        livekitClients: cfg.platforms.includes("matrix") ? [{ app: lkJwtApp, namespace: "matrix" }] : [],
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

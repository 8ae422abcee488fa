import { planAs } from "@keel/core";
import { WebRtc, WebRtcArgs, appSettingDefaults, validateWebRtcArgs, webrtcDemand } from "@keel/webrtc";
import { PlatformEntry } from "./entry";
import { LegacyPlan, common, legacyPlan } from "./legacy";

export const webrtc: PlatformEntry<LegacyPlan<WebRtcArgs>, WebRtc> = {
  name: "webrtc",
  settingKeys: Object.keys(appSettingDefaults),
  plan: ({ site, cfg }) =>
    planAs("keel:webrtc", () =>
      legacyPlan(site, {
        namespaces: ["webrtc"],
        args: (tls) => ({
          ...common(site, tls),
          secretRotation: site.secretRotation,
          fastStorageClass: site.storageClasses.fast,
          app: cfg.webrtc,
          // Matrix's token service creates rooms through LiveKit's API.
          livekitClients: cfg.platforms.includes("matrix")
            ? [{ app: "lk-jwt-service", namespace: "matrix" }]
            : [],
        }),
        validate: validateWebRtcArgs,
        demand: webrtcDemand,
      }),
    ),
  build(plan, { tls }) {
    const webrtc = new WebRtc("webrtc", plan.args(tls));
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

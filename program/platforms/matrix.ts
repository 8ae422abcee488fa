import { planAs } from "@keel/core";
import { Matrix, MatrixAppSettings, MatrixPlan, matrixSettingKeys, planMatrix } from "@keel/matrix";
import { WebRtc, WebRtcPlan } from "@keel/webrtc";
import { PlatformEntry } from "./entry";

export const matrix: PlatformEntry<MatrixPlan, Matrix, MatrixAppSettings> = {
  name: "matrix",
  settingKeys: matrixSettingKeys,
  plan: ({ site, enabled }, app) =>
    planAs("keel:matrix", () =>
      planMatrix(site, {
        app,
        // Exporters run when monitoring scrapes the stack; group calls need the WebRTC platform's LiveKit.
        peers: {
          monitoring: enabled.includes("monitoring"),
          calls: enabled.includes("webrtc"),
        },
      }),
    ),
  build(plan, { tls, caCertificate, plans, built }) {
    const webrtc = built.webrtc as WebRtc | undefined;
    const matrix = new Matrix("matrix", {
      plan,
      tls,
      caCertificate,
      monitoringNamespace: plans.monitoring?.namespaces[0],
      calls: webrtc && {
        livekitUrl: webrtc.livekitUrl.replace(/^https:/, "wss:"),
        livekitNamespace: (plans.webrtc as WebRtcPlan).namespace,
        apiKey: webrtc.livekitApiKey,
        apiSecret: webrtc.livekitApiSecret,
        turnUris: webrtc.turnUris,
        turnSharedSecret: webrtc.turnSharedSecret,
      },
    });
    return {
      component: matrix,
      outputs: {
        namespaces: {
          matrix: matrix.namespace,
          ...(matrix.liNamespace ? { matrixLi: matrix.liNamespace } : {}),
        },
        endpoints: {
          matrix: matrix.urls.homeserver,
          element: matrix.urls.element,
          synapseAdmin: matrix.urls.admin,
        },
        generatedSecrets: matrix.secretNames,
      },
    };
  },
};

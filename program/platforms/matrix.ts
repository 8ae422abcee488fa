import { planAs } from "@keel/core";
import { Matrix, MatrixArgs, matrixDemand, matrixSettingKeys, validateMatrixArgs } from "@keel/matrix";
import { WebRtc } from "@keel/webrtc";
import { PlatformEntry } from "./entry";
import { LegacyPlan, common, legacyPlan } from "./legacy";

export const matrix: PlatformEntry<LegacyPlan<MatrixArgs>, Matrix> = {
  name: "matrix",
  settingKeys: matrixSettingKeys,
  plan: ({ site, cfg }) =>
    planAs("keel:matrix", () =>
      legacyPlan(site, {
        namespaces: ["matrix"],
        scrapeTargets: [{ namespace: "matrix", ports: [9000, 8405, 9187, 9121] }],
        args: (tls) => ({
          ...common(site, tls),
          secretRotation: site.secretRotation,
          fastStorageClass: site.storageClasses.fast,
          bulkStorageClass: site.storageClasses.bulk,
          backup: site.backup,
          protectData: site.protectData,
          airGapped: site.airGapped,
          monitoringNamespace: cfg.platforms.includes("monitoring") ? "monitoring" : undefined,
          app: cfg.matrix,
        }),
        validate: validateMatrixArgs,
        demand: matrixDemand,
      }),
    ),
  build(plan, { tls, caCertificate, built }) {
    const webrtc = built.webrtc as WebRtc | undefined;
    const matrix = new Matrix("matrix", {
      ...plan.args(tls),
      caCertificate,
      calls: webrtc && {
        livekitUrl: webrtc.livekitUrl.replace(/^https:/, "wss:"),
        livekitNamespace: "webrtc",
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

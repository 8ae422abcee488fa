import { Workload, standardProbes } from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { AiCorePlan, partOf } from "./plan";
import { urlPort } from "./settings";

/**
 * The GPU speech services: speech-to-text (faster-whisper) and text-to-speech (XTTS), each with its models
 * on a volume. What is missing there comes from the site's mirror when one is set; otherwise nothing is
 * downloaded at start.
 */
export function speechServices(
  name: string,
  plan: AiCorePlan,
  namespace: pulumi.Output<string>,
  parent: pulumi.Resource,
): Workload[] {
  const { site, settings } = plan;
  const mirror = settings.modelMirror;
  const speech = (component: "stt" | "tts", bootSeconds: number, env: Record<string, string>) =>
    new Workload(
      `${name}-${component}`,
      {
        namespace,
        appName: component,
        partOf,
        kind: "StatefulSet",
        image: site.images.image(component),
        resources: plan.sizes[component],
        gpus: 1,
        bootSeconds,
        probes: standardProbes({ http: { path: "/health", port: 8000 } }, bootSeconds),
        ports: [{ name: "http", port: 8000 }],
        env: {
          HF_HUB_OFFLINE: mirror ? "0" : "1",
          TRANSFORMERS_OFFLINE: mirror ? "0" : "1",
          ...(mirror ? { HF_ENDPOINT: mirror } : {}),
          HF_HOME: "/models",
          XDG_CACHE_HOME: "/models/cache",
          ...env,
        },
        persistentVolumes: [
          {
            name: "models",
            mountPath: "/models",
            size: `${plan.modelsGi}Gi`,
            storageClass: site.storageClasses.fast,
          },
        ],
        terminationGracePeriodSeconds: 60,
        allowFrom: [{ app: "orchestrator" }],
        egressTo: mirror ? [{ cidr: "0.0.0.0/0", ports: [urlPort(mirror)] }] : [],
      },
      { parent },
    );
  return [
    speech("stt", 120, { WHISPER_MODEL: settings.sttModel, WHISPER_COMPUTE_TYPE: "int8_float16" }),
    speech("tts", 300, {
      COQUI_TOS_AGREED: "1",
      XTTS_MODEL_PATH: "/models/xtts_v2",
      VOICE_CACHE_SIZE: String(settings.ttsVoiceCacheSize),
      WARMUP_ON_STARTUP: "0",
    }),
  ];
}

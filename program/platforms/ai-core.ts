import { AiCore, AiCoreArgs, aiCoreDemand, validateAiCoreArgs } from "@keel/ai-core";
import { appSettingDefaults } from "@keel/ai-core";
import { planAs } from "@keel/core";
import { PlatformEntry } from "./entry";
import { LegacyPlan, legacyPlan } from "./legacy";

export const aiCore: PlatformEntry<LegacyPlan<AiCoreArgs>, AiCore> = {
  name: "ai-core",
  settingKeys: Object.keys(appSettingDefaults),
  plan: ({ site, cfg }) =>
    planAs("keel:aiCore", () =>
      legacyPlan(site, {
        namespaces: ["ai-core"],
        args: (tls) => ({
          domain: site.domain,
          sizing: site.sizing,
          images: site.images,
          fastStorageClass: site.storageClasses.fast,
          bulkStorageClass: site.storageClasses.bulk,
          ingressClass: site.ingress.className,
          ingressControllerNamespace: site.ingress.controllerNamespace,
          ingressSkipAwait: site.ingress.skipAwait,
          ingressTls: tls,
          gpu: site.gpu,
          backup: site.backup,
          protectData: site.protectData,
          secretRotation: site.secretRotation,
          app: cfg.aiCore,
        }),
        validate: validateAiCoreArgs,
        demand: aiCoreDemand,
      }),
    ),
  build(plan, { tls }) {
    const ai = new AiCore("ai-core", plan.args(tls));
    return {
      component: ai,
      outputs: {
        namespaces: { aiCore: ai.namespace },
        endpoints: { assistant: ai.assistantUrl, auth: ai.authUrl },
        generatedSecrets: ai.secretNames,
      },
    };
  },
};

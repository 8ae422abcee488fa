import { planAs } from "@keel/core";
import {
  Microservices,
  MicroservicesArgs,
  appSettingDefaults,
  microservicesDemand,
  validateMicroservicesArgs,
} from "@keel/microservices";
import { PlatformEntry } from "./entry";
import { LegacyPlan, common, legacyPlan } from "./legacy";

export const microservices: PlatformEntry<LegacyPlan<MicroservicesArgs>, Microservices> = {
  name: "microservices",
  settingKeys: Object.keys(appSettingDefaults),
  plan: ({ site, cfg, secrets }) =>
    planAs("keel:microservices", () =>
      legacyPlan(site, {
        namespaces: ["microservices"],
        args: (tls) => ({
          ...common(site, tls),
          secretRotation: site.secretRotation,
          fastStorageClass: site.storageClasses.fast,
          bulkStorageClass: site.storageClasses.bulk,
          backup: site.backup,
          protectData: site.protectData,
          providerKeys: { openai: secrets.openaiApiKey, anthropic: secrets.anthropicApiKey },
          app: cfg.microservices,
        }),
        validate: validateMicroservicesArgs,
        demand: microservicesDemand,
      }),
    ),
  build(plan, { tls }) {
    const micro = new Microservices("microservices", plan.args(tls));
    return {
      component: micro,
      outputs: {
        namespaces: { microservices: micro.namespace },
        endpoints: { ai: micro.aiUrl },
        generatedSecrets: micro.secretNames,
      },
    };
  },
};

import { planAs } from "@keel/core";
import { Microservices, MicroservicesPlan, appSettingDefaults, planMicroservices } from "@keel/microservices";
import { PlatformEntry } from "./entry";

export const microservices: PlatformEntry<MicroservicesPlan, Microservices> = {
  name: "microservices",
  settingKeys: Object.keys(appSettingDefaults),
  plan: ({ site, cfg, secrets }) =>
    planAs("keel:microservices", () =>
      planMicroservices(site, {
        app: cfg.microservices,
        providerKeys: { openai: secrets.openaiApiKey, anthropic: secrets.anthropicApiKey },
      }),
    ),
  build(plan, { tls }) {
    const micro = new Microservices("microservices", { plan, tls });
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

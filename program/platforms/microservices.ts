import { planAs } from "@keel/core";
import {
  Microservices,
  MicroservicesAppSettings,
  MicroservicesPlan,
  appSettingDefaults,
  planMicroservices,
} from "@keel/microservices";
import { PlatformEntry } from "./entry";

export const microservices: PlatformEntry<MicroservicesPlan, Microservices, MicroservicesAppSettings> = {
  name: "microservices",
  settingKeys: Object.keys(appSettingDefaults),
  plan: ({ site, secrets }, app) =>
    planAs("keel:microservices", () =>
      planMicroservices(site, {
        app,
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

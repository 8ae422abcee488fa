import { AiCore, AiCoreAppSettings, AiCorePlan, appSettingDefaults, planAiCore } from "@keel/ai-core";
import { planAs } from "@keel/core";
import { PlatformEntry } from "./entry";

export const aiCore: PlatformEntry<AiCorePlan, AiCore, AiCoreAppSettings> = {
  name: "ai-core",
  settingKeys: Object.keys(appSettingDefaults),
  plan: ({ site }, app) => planAs("keel:aiCore", () => planAiCore(site, { app })),
  build(plan, { tls }) {
    const ai = new AiCore("ai-core", { plan, tls });
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

import { planAs } from "@keel/core";
import { Osint, OsintAppSettings, OsintPlan, appSettingDefaults, planOsint } from "@keel/osint";
import { PlatformEntry } from "./entry";

export const osint: PlatformEntry<OsintPlan, Osint, OsintAppSettings> = {
  name: "osint",
  settingKeys: Object.keys(appSettingDefaults),
  plan: ({ site, secrets }, app) =>
    planAs("keel:osint", () => planOsint(site, { app, openctiToken: secrets.openctiToken })),
  build(plan, { tls }) {
    const osint = new Osint("osint", { plan, tls });
    return {
      component: osint,
      outputs: {
        namespaces: { osint: osint.namespace },
        endpoints: { osint: osint.opsUrl, kibana: osint.kibanaUrl },
        generatedSecrets: osint.secretNames,
      },
    };
  },
};

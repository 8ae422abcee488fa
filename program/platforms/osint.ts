import { planAs } from "@keel/core";
import { Osint, OsintArgs, appSettingDefaults, osintDemand, validateOsintArgs } from "@keel/osint";
import { PlatformEntry } from "./entry";
import { LegacyPlan, common, legacyPlan } from "./legacy";

export const osint: PlatformEntry<LegacyPlan<OsintArgs>, Osint> = {
  name: "osint",
  settingKeys: Object.keys(appSettingDefaults),
  plan: ({ site, cfg, secrets }) =>
    planAs("keel:osint", () =>
      legacyPlan(site, {
        namespaces: ["osint"],
        args: (tls) => ({
          ...common(site, tls),
          secretRotation: site.secretRotation,
          fastStorageClass: site.storageClasses.fast,
          bulkStorageClass: site.storageClasses.bulk,
          backup: site.backup,
          protectData: site.protectData,
          openctiToken: secrets.openctiToken,
          app: cfg.osint,
        }),
        validate: validateOsintArgs,
        demand: osintDemand,
      }),
    ),
  build(plan, { tls }) {
    const osint = new Osint("osint", plan.args(tls));
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

import { IngressTls, Site, planAs } from "@keel/core";
import {
  Monitoring,
  MonitoringArgs,
  monitoringDemand,
  monitoringSettingDefaults,
  validateMonitoringArgs,
} from "@keel/monitoring";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { PlatformEntry } from "./entry";
import { LegacyPlan, common, legacyPlan } from "./legacy";

function monitoringArgs(
  site: Site,
  cfg: StackConfig,
  tls: IngressTls,
  extra: Pick<MonitoringArgs, "targets" | "certificateEndpoints"> & {
    probeCaCertificate?: pulumi.Input<string>;
  } = {},
): MonitoringArgs {
  return {
    ...common(site, tls),
    secretRotation: site.secretRotation,
    fastStorageClass: site.storageClasses.fast,
    targets: extra.targets ?? [],
    certificateEndpoints: extra.certificateEndpoints ?? [],
    probeCaCertificate: extra.probeCaCertificate,
    app: cfg.monitoring,
  };
}

export const monitoring: PlatformEntry<LegacyPlan<MonitoringArgs>, Monitoring> = {
  name: "monitoring",
  settingKeys: Object.keys(monitoringSettingDefaults),
  plan: ({ site, cfg }) =>
    planAs("keel:monitoring", () =>
      legacyPlan(site, {
        namespaces: ["monitoring"],
        args: (tls) => monitoringArgs(site, cfg, tls),
        validate: validateMonitoringArgs,
        demand: monitoringDemand,
      }),
    ),
  build(plan, { tls, caCertificate, plans, endpoints }) {
    const args = plan.args(tls);
    const monitoring = new Monitoring("monitoring", {
      ...args,
      targets: Object.values(plans).flatMap((p) =>
        p.scrapeTargets.map((t) => ({ ...t, ports: [...t.ports] })),
      ),
      certificateEndpoints: Object.values(endpoints).filter((e) => e.startsWith("https://")),
      probeCaCertificate: caCertificate,
    });
    return {
      component: monitoring,
      outputs: {
        namespaces: { monitoring: monitoring.namespace },
        endpoints: { grafana: monitoring.grafanaUrl },
        generatedSecrets: monitoring.secretNames,
      },
    };
  },
};

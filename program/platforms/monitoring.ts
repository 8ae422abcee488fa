import { planAs } from "@keel/core";
import {
  Monitoring,
  MonitoringPlan,
  MonitoringSettings,
  monitoringSettingDefaults,
  planMonitoring,
} from "@keel/monitoring";
import { PlatformEntry } from "./entry";

export const monitoring: PlatformEntry<MonitoringPlan, Monitoring, MonitoringSettings> = {
  name: "monitoring",
  settingKeys: Object.keys(monitoringSettingDefaults),
  plan: ({ site }, app) => planAs("keel:monitoring", () => planMonitoring(site, { app })),
  build(plan, { tls, caCertificate, plans, endpoints }) {
    // What it watches of the other platforms is known once they are planned and built (it is built last).
    const monitoring = new Monitoring("monitoring", {
      plan,
      tls,
      targets: Object.values(plans).flatMap((p) => p.scrapeTargets),
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

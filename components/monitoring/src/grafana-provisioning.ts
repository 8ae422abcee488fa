import { stableYaml } from "@keel/core";
import { prometheusDatasource } from "./dashboards";

/** Where the dashboard JSON files are mounted; the file provider reads them from there. */
export const dashboardsDir = "/etc/grafana/dashboards";

/** In-namespace addresses of the datasources. */
export interface DatasourceUrls {
  prometheus: string;
  loki: string;
  alertmanager: string;
}

/** provisioning/datasources/keel.yaml: Prometheus (default), Loki and Alertmanager, not editable in the UI. */
export function renderDatasources(urls: DatasourceUrls): string {
  return stableYaml({
    apiVersion: 1,
    datasources: [
      {
        name: "Prometheus",
        type: prometheusDatasource.type,
        uid: prometheusDatasource.uid,
        access: "proxy",
        url: urls.prometheus,
        isDefault: true,
        editable: false,
        jsonData: { httpMethod: "POST" },
      },
      { name: "Loki", type: "loki", uid: "loki", access: "proxy", url: urls.loki, editable: false },
      {
        name: "Alertmanager",
        type: "alertmanager",
        uid: "alertmanager",
        access: "proxy",
        url: urls.alertmanager,
        editable: false,
        jsonData: { implementation: "prometheus", handleGrafanaManagedAlerts: false },
      },
    ],
  });
}

/** provisioning/dashboards/keel.yaml: a file provider over the mounted dashboards, read-only in the UI. */
export function renderDashboardProviders(): string {
  return stableYaml({
    apiVersion: 1,
    providers: [
      {
        name: "keel",
        folder: "keel",
        type: "file",
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: dashboardsDir, foldersFromFilesStructure: false },
      },
    ],
  });
}

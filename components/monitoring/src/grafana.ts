import { GeneratedSecret, IngressTls, WebIngress, Workload, standardProbes } from "@keel/core";
import { metricsAnnotations } from "./contract";
import { dashboardJson } from "./dashboards";
import { dashboardsDir, renderDashboardProviders, renderDatasources } from "./grafana-provisioning";
import { BuildScope, BuiltPart, addressOf, monitoringApps, monitoringPorts, partOf, peerOf } from "./parts";

/** Grafana as built: its workload and port, and the Secret holding its `admin` password. */
export interface BuiltGrafana extends BuiltPart {
  readonly admin: GeneratedSecret;
  readonly ingress: WebIngress;
}

/** The parts Grafana queries (its datasources), all built before it. */
export interface GrafanaDatasources {
  prometheus: BuiltPart;
  loki: BuiltPart;
  alertmanager: BuiltPart;
}

const settingsEnv = {
  GF_SECURITY_ADMIN_USER: "admin",
  GF_SECURITY_COOKIE_SECURE: "true",
  GF_SECURITY_DISABLE_GRAVATAR: "true",
  GF_AUTH_ANONYMOUS_ENABLED: "false",
  GF_USERS_ALLOW_SIGN_UP: "false",
  // Nothing is fetched from the internet: no plugin preinstall, no update checks, no news feed.
  GF_PLUGINS_PREINSTALL_DISABLED: "true",
  GF_ANALYTICS_REPORTING_ENABLED: "false",
  GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
  GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
  GF_NEWS_NEWS_FEED_ENABLED: "false",
  GF_PATHS_DATA: "/var/lib/grafana",
  GF_PATHS_LOGS: "/var/log/grafana",
  GF_PATHS_PLUGINS: "/var/lib/grafana/plugins",
  GF_PATHS_PROVISIONING: "/etc/grafana/provisioning",
  GF_LOG_MODE: "console",
};

/**
 * Grafana: stateless (its database on scratch space, so the admin password always matches the Secret);
 * datasources and dashboards provisioned; admin password generated; served at `grafana.<domain>` over TLS.
 */
export function buildGrafana(scope: BuildScope, sources: GrafanaDatasources, tls: IngressTls): BuiltGrafana {
  const { name, plan, namespace } = scope;
  const port = monitoringPorts.grafana;
  const admin = new GeneratedSecret(
    `${name}-grafana-admin`,
    {
      namespace,
      secretName: "grafana-admin",
      generate: { password: { length: 32 } },
      rotation: plan.site.secretRotation,
    },
    scope.inNs,
  );
  const workload = new Workload(
    `${name}-grafana`,
    {
      namespace,
      appName: monitoringApps.grafana,
      partOf,
      image: plan.site.images.image("grafana"),
      resources: plan.sizes.grafana,
      // A fresh database is migrated at every start (the state is provisioned, not kept).
      bootSeconds: 120,
      probes: standardProbes({ http: { path: "/api/health", port } }, 120),
      ports: [{ name: "http", port }],
      env: { GF_SERVER_HTTP_PORT: String(port), GF_SERVER_ROOT_URL: plan.grafanaUrl, ...settingsEnv },
      secretEnv: { GF_SECURITY_ADMIN_PASSWORD: admin.ref("password") },
      runAsUser: 472,
      scratchVolumes: [
        { name: "state", mountPath: "/var/lib/grafana", sizeLimit: "512Mi" },
        { name: "logs", mountPath: "/var/log/grafana", sizeLimit: "64Mi" },
      ],
      configFiles: [
        {
          name: "datasources",
          mountPath: "/etc/grafana/provisioning/datasources",
          files: {
            "keel.yaml": renderDatasources({
              prometheus: `http://${addressOf(sources.prometheus)}`,
              loki: `http://${addressOf(sources.loki)}`,
              alertmanager: `http://${addressOf(sources.alertmanager)}`,
            }),
          },
        },
        {
          name: "dashboard-providers",
          mountPath: "/etc/grafana/provisioning/dashboards",
          files: { "keel.yaml": renderDashboardProviders() },
        },
        {
          name: "dashboards",
          mountPath: dashboardsDir,
          files: Object.fromEntries(plan.dashboards.map((d) => [`${d.uid}.json`, dashboardJson(d)])),
        },
      ],
      podAnnotations: metricsAnnotations(port),
      allowFrom: [
        { namespace: plan.site.ingress.controllerNamespace, ports: [port] },
        peerOf(sources.prometheus),
      ],
      egressTo: [
        peerOf(sources.prometheus, true),
        peerOf(sources.loki, true),
        peerOf(sources.alertmanager, true),
      ],
    },
    scope.inNs,
  );
  const ingress = new WebIngress(
    `${name}-grafana-ingress`,
    {
      namespace,
      partOf,
      host: plan.grafanaHost,
      serviceName: workload.serviceName,
      servicePort: port,
      ingressClass: plan.site.ingress.className,
      tls,
      skipAwait: plan.site.ingress.skipAwait,
    },
    scope.inNs,
  );
  return { workload, port, admin, ingress };
}

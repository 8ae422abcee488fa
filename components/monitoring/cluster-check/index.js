const core = require("@keel/core");
const { Monitoring, PostgresExporter, RedisExporter, planMonitoring } = require("@keel/monitoring");
const namespace = "keel-mon-check";
const site = core.resolveSite({ domain: "check.keel.test", ingress: { skipAwait: true } });
const plan = planMonitoring(site, {
  namespace,
  app: { alertWebhookUrl: "https://alerts.check.keel.test/hook" },
});
const m = new Monitoring("mon", {
  plan,
  tls: { mode: "acme", clusterIssuer: "none" },
  targets: [{ namespace: "keel-mon-check-apps", ports: [9187] }],
  certificateEndpoints: ["https://grafana.check.keel.test"],
});
const common = {
  namespace: m.namespace,
  partOf: "check",
  images: site.images,
  sizing: site.sizing,
  monitoringNamespace: namespace,
};
new PostgresExporter(
  "pg-exporter",
  {
    ...common,
    host: "postgres",
    database: "app",
    user: "app",
    password: { secretName: "grafana-admin", key: "password" },
  },
  { dependsOn: [m] },
);
new RedisExporter(
  "redis-exporter",
  { ...common, host: "redis", password: { secretName: "grafana-admin", key: "password" } },
  { dependsOn: [m] },
);
exports.namespace = m.namespace;
exports.grafanaAdminSecret = m.grafanaAdminSecretName;

const core = require("@keel/core");
const { Monitoring, PostgresExporter, RedisExporter } = require("@keel/monitoring");
const namespace = "keel-mon-check";
const sizing = core.sizingProfile("small");
const images = new core.ImageResolver();
const m = new Monitoring("mon", {
  namespace,
  domain: "check.keel.test",
  sizing,
  images,
  fastStorageClass: "fast",
  ingressClass: "nginx",
  ingressControllerNamespace: "ingress-nginx",
  ingressSkipAwait: true,
  ingressTls: { mode: "acme", clusterIssuer: "none" },
  targets: [{ namespace: "keel-mon-check-apps", ports: [9187] }],
  certificateEndpoints: ["https://grafana.check.keel.test"],
  app: { alertWebhookUrl: "https://alerts.check.keel.test/hook" },
});
const common = { namespace: m.namespace, partOf: "check", images, sizing, monitoringNamespace: namespace };
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

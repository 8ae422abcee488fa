import { ValidationError } from "@keel/core";
import {
  alertGroups,
  builtInDashboards,
  dashboardJson,
  dashboardSchemaVersion,
  defaultAlertThresholds,
  metricsAnnotations,
  podAnnotationLabel,
  renderAlertRules,
  renderAlertmanagerConfig,
  renderAlloyConfig,
  renderBlackboxConfig,
  renderDashboard,
  renderDashboardProviders,
  renderDatasources,
  renderLokiConfig,
  renderPrometheusConfig,
  resolveAlertThresholds,
  resolveMonitoringSettings,
  tlsProbeTarget,
  validateAlertThresholds,
  validateDashboardSpec,
  validateReadRules,
} from "@keel/monitoring";
import { expect } from "chai";
import { parse } from "yaml";
import { promqlErrors } from "./promql";

const prometheusOptions = {
  namespaces: ["osint", "monitoring", "matrix"],
  scrapeIntervalSeconds: 30,
  tlsProbeTargets: ["grafana.example.org:443", "matrix.example.org:8448"],
  blackboxAddress: "blackbox-exporter:9115",
  alertmanagerAddress: "alertmanager:9093",
  kubeStateMetricsApp: "kube-state-metrics",
  kubeStateMetricsPort: 8080,
  kubeletInsecureSkipVerify: false,
};

describe("monitoring: the PromQL syntax check itself", () => {
  it("accepts valid PromQL and reports broken PromQL (the check can fail)", () => {
    expect(promqlErrors('sum by (namespace) (rate(up{job="x"}[5m])) > 0.8')).to.deep.equal([]);
    expect(promqlErrors("sum by (namespace (rate(up[5m]))")).not.to.deep.equal([]);
    expect(promqlErrors("rate(up[5m]) >")).not.to.deep.equal([]);
  });
});

describe("monitoring: alert rules", () => {
  const rules = parse(renderAlertRules(defaultAlertThresholds)) as {
    groups: {
      name: string;
      rules: { alert: string; expr: string; for: string; labels: any; annotations: any }[];
    }[];
  };
  const all = rules.groups.flatMap((g) => g.rules);
  const byName = (name: string) => {
    const r = all.find((x) => x.alert === name);
    if (!r) throw new Error(`no alert ${name}; have ${all.map((x) => x.alert).join(", ")}`);
    return r;
  };

  it("parses as a Prometheus rules file whose every expression is valid PromQL", () => {
    expect(rules.groups.length).to.be.greaterThan(4);
    expect(all.length).to.be.at.least(18);
    for (const r of all) {
      expect(promqlErrors(r.expr), `${r.alert}: ${r.expr}`).to.deep.equal([]);
      expect(r.for).to.match(/^\d+m$/);
      expect(["critical", "warning", "info"]).to.include(r.labels.severity);
      expect(r.annotations.summary).to.be.a("string").and.not.equal("");
      expect(r.annotations.description).to.be.a("string").and.not.equal("");
    }
    const names = all.map((r) => r.alert);
    expect(new Set(names).size).to.equal(names.length);
  });

  it("has each required alert with its threshold", () => {
    expect(byName("PostgresConnectionsNearLimit").expr).to.match(
      /pg_stat_activity_count.*\/.*pg_settings_max_connections.*> 0\.8$/,
    );
    expect(byName("RedisMemoryPressure").expr).to.match(
      /redis_memory_used_bytes \/ .*redis_memory_max_bytes.*> 0\.9$/,
    );
    expect(byName("ContainerMemoryNearLimit").expr).to.match(
      /container_memory_working_set_bytes.*\/.*container_spec_memory_limit_bytes.*> 0\.9$/,
    );
    expect(byName("VolumeAlmostFull").expr).to.equal(
      "kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes > 0.8",
    );
    expect(byName("VolumeFillingUp").expr).to.match(/> 0\.7$/);
    expect(byName("ContainerRestarting").expr).to.equal(
      "increase(kube_pod_container_status_restarts_total[1h]) > 3",
    );
    expect(byName("CertificateExpiringSoon").expr).to.equal(
      'probe_ssl_earliest_cert_expiry{job="tls-expiry"} - time() < 7 * 86400',
    );
    expect(byName("TargetDown").expr).to.equal("up == 0");
    expect(byName("BackupJobFailed").expr).to.contain("kube_job_status_failed > 0");
    expect(byName("BackupJobFailed").expr).to.contain(
      'kube_cronjob_annotations{annotation_keel_dev_backup_of!=""}',
    );
    expect(byName("BackupTooOld").expr).to.match(/kube_cronjob_status_last_successful_time.*> 26 \* 3600$/);
    // A backup CronJob that never succeeded has no last successful time: it counts from its creation.
    expect(byName("BackupTooOld").expr).to.contain(
      "(time() - (kube_cronjob_status_last_successful_time or kube_cronjob_created))",
    );
    expect(byName("BackupTooOld").annotations.description).to.contain("has not succeeded for");
    expect(byName("ContainerCpuThrottled").expr).to.match(
      /container_cpu_cfs_throttled_periods_total.*> 0\.25$/,
    );
    expect(byName("NamespaceQuotaNearLimit").expr).to.match(/kube_resourcequota.*> 0\.9$/);
    expect(byName("PostgresConnectionsNearLimit").labels.severity).to.equal("critical");
    expect(byName("CertificateExpiringSoon").labels.severity).to.equal("critical");
  });

  it("takes every threshold from the arguments", () => {
    const t = resolveAlertThresholds({
      postgresConnectionsRatio: 0.75,
      restartsPerHour: 5,
      certificateExpiryDays: 14,
    });
    const groups = alertGroups(t).flatMap((g) => g.rules);
    const expr = (n: string) => groups.find((r) => r.alert === n)!.expr;
    expect(expr("PostgresConnectionsNearLimit")).to.match(/> 0\.75$/);
    expect(expr("ContainerRestarting")).to.match(/> 5$/);
    expect(expr("CertificateExpiringSoon")).to.match(/< 14 \* 86400$/);
  });

  it("refuses thresholds that cannot work, naming the field", () => {
    const msgs = (t: any) => validateAlertThresholds(t).map((e) => e.message);
    expect(msgs({ redisMemoryRatio: 1.5 })).to.deep.equal([
      "alertThresholds.redisMemoryRatio: must be a ratio above 0 and at most 1, got 1.5",
    ]);
    expect(msgs({ restartsPerHour: 0 })[0]).to.match(
      /^alertThresholds\.restartsPerHour: must be an integer from 1/,
    );
    expect(msgs({ volumeUsageWarningRatio: 0.9 })[0]).to.match(/volumeUsageWarningRatio: must be below/);
    expect(msgs({ cpuThrotling: 0.5 })[0]).to.match(/^alertThresholds\.cpuThrotling: is not a threshold/);
    expect(msgs(undefined)).to.deep.equal([]);
  });
});

describe("monitoring: prometheus.yml", () => {
  const cfg = parse(renderPrometheusConfig(prometheusOptions)) as any;
  const job = (name: string) => cfg.scrape_configs.find((j: any) => j.job_name === name);

  it("scrapes annotated pods of exactly the listed namespaces through Kubernetes service discovery", () => {
    const pods = job("keel-pods");
    expect(pods.kubernetes_sd_configs).to.deep.equal([
      { role: "pod", namespaces: { names: ["matrix", "monitoring", "osint"] } },
    ]);
    const keep = pods.relabel_configs[0];
    expect(keep).to.deep.equal({
      action: "keep",
      source_labels: ["__meta_kubernetes_pod_annotationpresent_keel_dev_metrics_port"],
      regex: "true",
    });
    const address = pods.relabel_configs.find((r: any) => r.target_label === "__address__");
    expect(address.source_labels).to.deep.equal([
      "__meta_kubernetes_pod_ip",
      "__meta_kubernetes_pod_annotation_keel_dev_metrics_port",
    ]);
    expect(address.replacement).to.equal("$1:$2");
    const path = pods.relabel_configs.find((r: any) => r.target_label === "__metrics_path__");
    expect(path.source_labels).to.deep.equal(["__meta_kubernetes_pod_annotation_keel_dev_metrics_path"]);
    expect(podAnnotationLabel("keel.dev/metrics-port", true)).to.equal(keep.source_labels[0]);
  });

  it("loads the rules, alerts Alertmanager and probes certificates through the blackbox exporter", () => {
    expect(cfg.rule_files).to.deep.equal(["/etc/prometheus/rules/*.yml"]);
    expect(cfg.alerting.alertmanagers[0].static_configs[0].targets).to.deep.equal(["alertmanager:9093"]);
    expect(cfg.global).to.deep.equal({ scrape_interval: "30s", evaluation_interval: "30s" });
    const tls = job("tls-expiry");
    expect(tls.params.module).to.deep.equal(["tls_expiry"]);
    expect(tls.static_configs[0].targets).to.deep.equal([
      "grafana.example.org:443",
      "matrix.example.org:8448",
    ]);
    expect(tls.relabel_configs.at(-1)).to.deep.equal({
      target_label: "__address__",
      replacement: "blackbox-exporter:9115",
    });
    const noProbes = parse(renderPrometheusConfig({ ...prometheusOptions, tlsProbeTargets: [] })) as any;
    expect(noProbes.scrape_configs.map((j: any) => j.job_name)).not.to.include("tls-expiry");
  });

  it("scrapes the kubelets with the service account token, keeping only the series the alerts use", () => {
    for (const name of ["kubelet", "cadvisor"]) {
      const j = job(name);
      expect(j.scheme).to.equal("https");
      expect(j.kubernetes_sd_configs).to.deep.equal([{ role: "node" }]);
      expect(j.authorization.credentials_file).to.equal(
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
      );
      expect(j.tls_config).to.deep.equal({
        ca_file: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        insecure_skip_verify: false,
      });
      expect(j.metric_relabel_configs[1]).to.deep.equal({
        action: "keep",
        source_labels: ["namespace"],
        regex: "matrix|monitoring|osint",
      });
    }
    expect(job("cadvisor").metrics_path).to.equal("/metrics/cadvisor");
    expect(job("cadvisor").metric_relabel_configs[0].regex).to.contain("container_memory_working_set_bytes");
    expect(job("kubelet").metric_relabel_configs[0].regex).to.contain("kubelet_volume_stats_used_bytes");
    expect(job("kube-state-metrics").honor_labels).to.equal(true);
  });

  it("renders the same bytes for the same input in any order (no false diffs)", () => {
    const shuffled = { ...prometheusOptions, namespaces: ["osint", "matrix", "monitoring", "osint"] };
    expect(renderPrometheusConfig(shuffled)).to.equal(renderPrometheusConfig(prometheusOptions));
  });
});

describe("monitoring: Alertmanager, blackbox, Loki and Alloy configs", () => {
  it("sends alerts to the null receiver unless a webhook is configured, whose URL is read from a file", () => {
    const none = parse(renderAlertmanagerConfig(false)) as any;
    expect(none.route.receiver).to.equal("null");
    expect(none.receivers).to.deep.equal([{ name: "null" }]);
    const hook = parse(renderAlertmanagerConfig(true)) as any;
    expect(hook.route.receiver).to.equal("webhook");
    expect(hook.receivers[1].webhook_configs).to.deep.equal([
      { url_file: "/etc/alertmanager/secrets/webhook-url", send_resolved: true },
    ]);
  });

  it("probes TLS with chain verification against the given CA", () => {
    const withCa = parse(renderBlackboxConfig(true)) as any;
    expect(withCa.modules.tls_expiry.prober).to.equal("tcp");
    expect(withCa.modules.tls_expiry.tcp.tls).to.equal(true);
    expect(withCa.modules.tls_expiry.tcp.tls_config).to.deep.equal({ ca_file: "/etc/blackbox/ca/ca.crt" });
    expect(JSON.stringify(withCa)).not.to.contain("insecure_skip_verify");
    expect((parse(renderBlackboxConfig(false)) as any).modules.tls_expiry.tcp.tls_config).to.equal(undefined);
    expect(tlsProbeTarget("https://Grafana.Example.org")).to.equal("grafana.example.org:443");
    expect(tlsProbeTarget("https://matrix.example.org:8448/_matrix")).to.equal("matrix.example.org:8448");
    expect(() => tlsProbeTarget("http://example.org")).to.throw(ValidationError, /https:\/\//);
  });

  it("keeps Loki's logs for the configured days through compactor retention", () => {
    const loki = parse(renderLokiConfig(30)) as any;
    expect(loki.limits_config.retention_period).to.equal("720h");
    expect(loki.compactor.retention_enabled).to.equal(true);
    expect(loki.compactor.delete_request_store).to.equal("filesystem");
    expect(loki.schema_config.configs[0]).to.include({
      store: "tsdb",
      object_store: "filesystem",
      schema: "v13",
    });
    expect(loki.common.storage.filesystem.chunks_directory).to.equal("/loki/chunks");
    expect(loki.auth_enabled).to.equal(false);
    expect((parse(renderLokiConfig(7)) as any).limits_config.retention_period).to.equal("168h");
  });

  it("tails pod logs through the Kubernetes API with loki.source.kubernetes (Promtail is retired)", () => {
    const alloy = renderAlloyConfig(["osint", "monitoring"], "http://loki:3100/loki/api/v1/push");
    expect(alloy).to.contain('discovery.kubernetes "pods" {\n  role = "pod"');
    expect(alloy).to.contain('names = ["monitoring", "osint"]');
    expect(alloy).to.contain('loki.source.kubernetes "pods" {\n  targets = discovery.relabel.pods.output');
    expect(alloy).to.contain("forward_to = [loki.write.default.receiver]");
    expect(alloy).to.contain('url = "http://loki:3100/loki/api/v1/push"');
    expect(alloy).not.to.match(/local\.file_match|loki\.source\.file|promtail|\/var\/log/);
    // Balanced braces: every block closes.
    expect((alloy.match(/{/g) ?? []).length).to.equal((alloy.match(/}/g) ?? []).length);
  });
});

describe("monitoring: Grafana provisioning and dashboards", () => {
  it("provisions Prometheus (default), Loki and Alertmanager, not editable", () => {
    const ds = parse(
      renderDatasources({
        prometheus: "http://prometheus:9090",
        loki: "http://loki:3100",
        alertmanager: "http://alertmanager:9093",
      }),
    ) as any;
    expect(ds.apiVersion).to.equal(1);
    const by = (t: string) => ds.datasources.find((d: any) => d.type === t);
    expect(by("prometheus")).to.include({
      uid: "prometheus",
      url: "http://prometheus:9090",
      isDefault: true,
      editable: false,
    });
    expect(by("loki")).to.include({ uid: "loki", url: "http://loki:3100", editable: false });
    expect(by("alertmanager").jsonData.implementation).to.equal("prometheus");
    const providers = parse(renderDashboardProviders()) as any;
    expect(providers.providers[0]).to.include({ type: "file", allowUiUpdates: false, disableDeletion: true });
    expect(providers.providers[0].options.path).to.equal("/etc/grafana/dashboards");
  });

  for (const [name, spec] of Object.entries(builtInDashboards)) {
    it(`renders the ${name} dashboard as valid Grafana JSON with valid PromQL in every panel`, () => {
      expect(validateDashboardSpec(spec)).to.deep.equal([]);
      const d = JSON.parse(dashboardJson(spec));
      expect(d.uid).to.equal(spec.uid);
      expect(d.schemaVersion).to.equal(dashboardSchemaVersion);
      expect(d.templating.list[0].name).to.equal("namespace");
      const panels = d.panels.filter((p: any) => p.type !== "row");
      expect(panels.length).to.be.at.least(6);
      const ids = d.panels.map((p: any) => p.id);
      expect(new Set(ids).size).to.equal(ids.length);
      for (const p of panels) {
        expect(["timeseries", "stat", "gauge"]).to.include(p.type);
        expect(p.datasource).to.deep.equal({ type: "prometheus", uid: "prometheus" });
        expect(p.gridPos.x + p.gridPos.w).to.be.at.most(24);
        expect(p.targets.length).to.be.greaterThan(0);
        for (const t of p.targets) {
          expect(promqlErrors(t.expr), `${p.title}: ${t.expr}`).to.deep.equal([]);
          expect(t.expr).to.contain('namespace=~"$namespace"');
        }
      }
      // No two panels overlap on the grid.
      const cells = new Set<string>();
      for (const p of d.panels) {
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
          for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
            expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).to.equal(false);
            cells.add(`${x},${y}`);
          }
      }
    });
  }

  it("covers the metrics each dashboard promises", () => {
    const exprs = (n: keyof typeof builtInDashboards) =>
      JSON.stringify(renderDashboard(builtInDashboards[n]));
    for (const m of [
      "synapse_http_server_requests_received_total",
      "synapse_storage_events_persisted_events_total",
      "synapse_federation_transaction_queue_pending_pdus",
      "synapse_util_caches_cache_hits",
      "synapse_storage_transaction_time_sum_total",
    ])
      expect(exprs("synapse")).to.contain(m);
    for (const m of [
      "pg_stat_activity_count",
      "pg_settings_max_connections",
      "pg_stat_database_xact_commit",
      "pg_stat_database_blks_hit",
      "pg_database_size_bytes",
      "pg_replication_lag_seconds",
    ])
      expect(exprs("postgres")).to.contain(m);
    for (const m of [
      "redis_memory_used_bytes",
      "redis_memory_max_bytes",
      "redis_commands_processed_total",
      "redis_connected_clients",
      "redis_evicted_keys_total",
    ])
      expect(exprs("redis")).to.contain(m);
  });

  it("refuses a broken dashboard spec, naming the field", () => {
    const bad = {
      uid: "Bad UID",
      title: "x",
      namespaceMetric: "up",
      rows: [
        {
          title: "r",
          panels: [
            { title: "p", width: 30, queries: [] },
            { title: "g", kind: "gauge" as const, queries: [{ expr: "up" }] },
          ],
        },
      ],
    };
    expect(validateDashboardSpec(bad, "extraDashboards[0]").map((e) => e.field)).to.deep.equal([
      "extraDashboards[0].uid",
      "extraDashboards[0].rows[0].panels[0].width",
      "extraDashboards[0].rows[0].panels[0].queries",
      "extraDashboards[0].rows[0].panels[1].range",
    ]);
  });
});

describe("monitoring: settings, contract and RBAC rules", () => {
  it("fills defaults and refuses bad settings with the field named", () => {
    expect(resolveMonitoringSettings(undefined)).to.deep.equal({
      metricsRetentionDays: 15,
      logRetentionDays: 30,
      scrapeIntervalSeconds: 30,
      alertWebhookUrl: "",
    });
    expect(() => resolveMonitoringSettings({ logRetentionDays: 0 }, "keel:monitoring")).to.throw(
      /^keel:monitoring\.logRetentionDays: must be an integer from 1 to 2555, got 0$/,
    );
    expect(() => resolveMonitoringSettings({ scrapeIntervalSeconds: 1 })).to.throw(
      /app\.scrapeIntervalSeconds/,
    );
    expect(() =>
      resolveMonitoringSettings({ alertWebhookUrl: "https://bot:hunter2@hooks.example.org/x" }),
    ).to.throw(/app\.alertWebhookUrl: carries credentials/);
    expect(() => resolveMonitoringSettings({ alertWebhookUrl: "ftp://x" })).to.throw(
      /must be an http\(s\) URL/,
    );
    expect(
      resolveMonitoringSettings({ alertWebhookUrl: "https://alerts.example.org/hook" }).alertWebhookUrl,
    ).to.equal("https://alerts.example.org/hook");
  });

  it("annotates pods for scraping and refuses a bad port or path", () => {
    expect(metricsAnnotations(9000, "/_synapse/metrics")).to.deep.equal({
      "keel.dev/metrics-port": "9000",
      "keel.dev/metrics-path": "/_synapse/metrics",
    });
    expect(() => metricsAnnotations(0)).to.throw(/metrics\.port/);
    expect(() => metricsAnnotations(9000, "metrics")).to.throw(/metrics\.path/);
  });

  it("allows only read verbs on named resources in reader roles", () => {
    expect(
      validateReadRules([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }]),
    ).to.deep.equal([]);
    expect(
      validateReadRules([
        { apiGroups: [""], resources: ["secrets"], verbs: ["create" as any] },
        { apiGroups: ["*"], resources: ["*"], verbs: ["get"] },
      ]).map((e) => e.field),
    ).to.deep.equal(["rules[0].verbs", "rules[1]"]);
  });
});

import {
  ImageResolver,
  checkCapacity,
  parseCpu,
  parseMemory,
  sizingProfile,
  totalDemand,
  validateSiteArgs,
} from "@keel/core";
import {
  Monitoring,
  MonitoringArgs,
  MonitoringBuildArgs,
  MonitoringPeers,
  PostgresExporter,
  RedisExporter,
  apiTokenTransformation,
  exporterDemand,
  planMonitoring,
  prometheusRetentionSize,
  validateMonitoringArgs,
  validateMonitoringPeers,
  validatePostgresExporterArgs,
} from "@keel/monitoring";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { Recorded, get, installMocks, ofType, podSpecs, settle, unwrap } from "./harness";
import { repoRoot, testSite, testTls } from "./fixtures";
import { promqlErrors } from "./promql";

/** What the stack watches of the other platforms in these tests. */
const peers: MonitoringPeers = {
  targets: [
    { namespace: "osint", ports: [9187, 9121] },
    { namespace: "matrix", ports: [9000, 9187] },
  ],
  certificateEndpoints: ["https://grafana.example.org", "https://matrix.example.org:8448"],
};

/** The stack planned for the test site with `args`, built with the test peers (`peers` overrides them). */
function buildArgs(args: MonitoringArgs = {}, extra: MonitoringPeers = {}): MonitoringBuildArgs {
  return { plan: planMonitoring(testSite(), args), tls: testTls, ...peers, ...extra };
}

async function deploy(args: MonitoringArgs = {}, extra: MonitoringPeers = {}): Promise<Recorded[]> {
  await installMocks();
  new Monitoring("monitoring", buildArgs(args, extra));
  return settle();
}

const configData = (res: Recorded[], name: string) => get(res, "ConfigMap", name).inputs.data;
const container = (res: Recorded[], kind: string, name: string) =>
  get(res, kind, name).inputs.spec.template.spec.containers[0];
const envOf = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
/** The value of an input the engine received marked secret (it fails for a plain value). */
function secretValue(input: any): unknown {
  expect(input?.[pulumi.runtime.specialSigKey], "not marked secret").to.equal(
    pulumi.runtime.specialSecretSig,
  );
  return input.value;
}
const netpol = (res: Recorded[], name: string) => get(res, "NetworkPolicy", name).inputs.spec;

describe("the monitoring stack", () => {
  let res: Recorded[];
  before(async () => {
    res = await deploy();
  });

  it("lives in its own restricted namespace with quota, limit range and default deny", () => {
    const ns = get(res, "kubernetes:core/v1:Namespace", "monitoring-ns").inputs.metadata;
    expect(ns.name).to.equal("monitoring");
    expect(ns.labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
    const quota = get(res, "ResourceQuota", "monitoring-ns-quota").inputs.spec.hard;
    const plan = planMonitoring(testSite());
    const demand = totalDemand([...plan.demand]);
    expect(parseCpu(quota["requests.cpu"])).to.be.at.least(demand.requestsCpu);
    expect(parseMemory(quota["limits.memory"]) / 1024 ** 3).to.be.at.least(demand.limitsMemoryGi);
    expect(parseMemory(quota["requests.storage"]) / 1024 ** 3).to.be.at.least(plan.storageGi);
    get(res, "LimitRange", "monitoring-ns-limits");
    expect(netpol(res, "monitoring-ns-default-deny")).to.deep.equal({
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
    });
  });

  it("runs Prometheus as a StatefulSet on the fast class with explicit retention time and size", () => {
    const sts = get(res, "StatefulSet", "monitoring-prometheus").inputs.spec;
    const claim = sts.volumeClaimTemplates[0].spec;
    expect(claim.storageClassName).to.equal("fast");
    expect(claim.resources.requests.storage).to.equal("20Gi");
    const args: string[] = sts.template.spec.containers[0].args;
    expect(args).to.include("--storage.tsdb.retention.time=15d");
    expect(args).to.include(`--storage.tsdb.retention.size=${prometheusRetentionSize(20)}`);
    expect(prometheusRetentionSize(20)).to.equal("17GB");
    expect(args).to.include("--config.file=/etc/prometheus/config/prometheus.yml");
    const mounts = sts.template.spec.containers[0].volumeMounts.map((m: any) => m.mountPath);
    expect(mounts).to.include.members(["/prometheus", "/etc/prometheus/config", "/etc/prometheus/rules"]);
  });

  it("renders prometheus.yml with the kubernetes_sd jobs over the target namespaces and the rules file", () => {
    const cfg = parse(configData(res, "monitoring-prometheus-config")["prometheus.yml"]) as any;
    const jobs = cfg.scrape_configs.map((j: any) => j.job_name);
    expect(jobs).to.include.members([
      "prometheus",
      "keel-pods",
      "kube-state-metrics",
      "kubelet",
      "cadvisor",
      "tls-expiry",
    ]);
    const pods = cfg.scrape_configs.find((j: any) => j.job_name === "keel-pods");
    expect(pods.kubernetes_sd_configs[0].namespaces.names).to.deep.equal(["matrix", "monitoring", "osint"]);
    expect(cfg.rule_files).to.deep.equal(["/etc/prometheus/rules/*.yml"]);
    const probes = cfg.scrape_configs.find((j: any) => j.job_name === "tls-expiry");
    expect(probes.static_configs[0].targets).to.deep.equal([
      "grafana.example.org:443",
      "matrix.example.org:8448",
    ]);
    const rules = parse(configData(res, "monitoring-prometheus-rules")["keel-alerts.yml"]) as any;
    const alerts = rules.groups.flatMap((g: any) => g.rules);
    for (const name of [
      "PostgresConnectionsNearLimit",
      "RedisMemoryPressure",
      "ContainerMemoryNearLimit",
      "VolumeAlmostFull",
      "ContainerRestarting",
      "CertificateExpiringSoon",
      "BackupJobFailed",
      "TargetDown",
    ]) {
      const a = alerts.find((r: any) => r.alert === name);
      expect(a, name).to.not.equal(undefined);
      expect(promqlErrors(a.expr)).to.deep.equal([]);
    }
  });

  it("takes alert thresholds, retention and scrape interval from the arguments", async () => {
    const other = await deploy({
      alertThresholds: { redisMemoryRatio: 0.85 },
      app: { metricsRetentionDays: 30, logRetentionDays: 90, scrapeIntervalSeconds: 15 },
    });
    const rules = configData(other, "monitoring-prometheus-rules")["keel-alerts.yml"];
    expect(rules).to.contain("redis_memory_used_bytes / (redis_memory_max_bytes > 0) > 0.85");
    const args: string[] = container(other, "StatefulSet", "monitoring-prometheus").args;
    expect(args).to.include("--storage.tsdb.retention.time=30d");
    const cfg = parse(configData(other, "monitoring-prometheus-config")["prometheus.yml"]) as any;
    expect(cfg.global.scrape_interval).to.equal("15s");
    const loki = parse(configData(other, "monitoring-loki-config")["loki.yaml"]) as any;
    expect(loki.limits_config.retention_period).to.equal(`${90 * 24}h`);
  });

  it("grants exactly read-only RBAC (never cluster-admin) to Prometheus, Alloy and kube-state-metrics", () => {
    const roles = Object.fromEntries(
      ofType(res, "ClusterRole").map((r) => [r.inputs.metadata.name, r.inputs.rules]),
    );
    expect(Object.keys(roles).sort()).to.deep.equal([
      "monitoring-alloy",
      "monitoring-kube-state-metrics",
      "monitoring-prometheus",
    ]);
    expect(roles["monitoring-prometheus"]).to.deep.equal([
      {
        apiGroups: [""],
        resources: ["endpoints", "nodes", "pods", "services"],
        verbs: ["get", "list", "watch"],
      },
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
    ]);
    expect(roles["monitoring-alloy"]).to.deep.equal([
      { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] },
    ]);
    expect(roles["monitoring-kube-state-metrics"]).to.deep.equal([
      { apiGroups: [""], resources: ["pods", "resourcequotas"], verbs: ["list", "watch"] },
      { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: ["list", "watch"] },
    ]);
    for (const rules of Object.values(roles) as any[]) {
      for (const r of rules) {
        expect(r.verbs.every((v: string) => ["get", "list", "watch"].includes(v))).to.equal(true);
        expect(r.resources).not.to.include("secrets");
      }
    }
    const bindings = [...ofType(res, "ClusterRoleBinding"), ...ofType(res, "RoleBinding")];
    expect(bindings.length).to.equal(3);
    for (const b of bindings) {
      expect(b.inputs.roleRef.name).not.to.equal("cluster-admin");
      expect(b.inputs.subjects).to.deep.equal([
        {
          kind: "ServiceAccount",
          name: b.inputs.metadata.name.replace("monitoring-", ""),
          namespace: "monitoring",
        },
      ]);
    }
    // The bound ServiceAccounts are the ones the workloads run as (a core Workload names it after its app).
    const accounts = ofType(res, "ServiceAccount").map((s) => s.inputs.metadata.name);
    expect(accounts).to.include.members(["prometheus", "alloy", "kube-state-metrics"]);
  });

  it("mounts an API token only where the API is called, with the documented exemption", () => {
    const withToken = ["monitoring-prometheus", "monitoring-alloy", "monitoring-kube-state-metrics"];
    for (const { owner, spec } of podSpecs(res)) {
      const workload = [...ofType(res, "Deployment"), ...ofType(res, "StatefulSet")].find(
        (w) => w.name === owner,
      )!;
      const exemption =
        workload.inputs.metadata.annotations["exempt.keel.dev/automount-service-account-token"];
      if (withToken.includes(owner)) {
        expect(spec.automountServiceAccountToken, owner).to.equal(true);
        expect(exemption, owner).to.match(/Kubernetes API/);
      } else {
        expect(spec.automountServiceAccountToken, owner).to.equal(false);
        expect(exemption, owner).to.equal(undefined);
      }
    }
    const untouched = apiTokenTransformation("reason")({
      type: "kubernetes:core/v1:Service",
      name: "x",
      props: { spec: {} },
      opts: {},
      resource: undefined as any,
    });
    expect(untouched).to.equal(undefined);
    expect(() => apiTokenTransformation(" ")).to.throw(/reason/);
  });

  it("runs every container non-root with a read-only root filesystem and images from the catalog", () => {
    const catalog = new Set(new ImageResolver().all());
    const specs = podSpecs(res);
    expect(specs.map((s) => s.owner).sort()).to.deep.equal([
      "monitoring-alertmanager",
      "monitoring-alloy",
      "monitoring-blackbox-exporter",
      "monitoring-grafana",
      "monitoring-kube-state-metrics",
      "monitoring-loki",
      "monitoring-prometheus",
    ]);
    for (const { owner, spec } of specs) {
      expect(spec.securityContext.runAsNonRoot, owner).to.equal(true);
      expect(spec.hostNetwork, owner).to.equal(undefined);
      expect(
        (spec.volumes ?? []).some((v: any) => v.hostPath),
        owner,
      ).to.equal(false);
      for (const c of spec.containers) {
        expect(catalog.has(c.image), `${owner}: ${c.image}`).to.equal(true);
        expect(c.securityContext.readOnlyRootFilesystem).to.equal(true);
        expect(c.securityContext.allowPrivilegeEscalation).to.equal(false);
      }
    }
    expect(container(res, "Deployment", "monitoring-kube-state-metrics").image).to.equal(
      "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.17.0",
    );
  });

  it("configures Alertmanager with the null receiver by default", () => {
    const am = parse(configData(res, "monitoring-alertmanager-config")["alertmanager.yml"]) as any;
    expect(am.route.receiver).to.equal("null");
    expect(ofType(res, "Secret").map((s) => s.inputs.metadata.name)).not.to.include("alertmanager-webhook");
    const sts = get(res, "StatefulSet", "monitoring-alertmanager").inputs.spec;
    expect(sts.volumeClaimTemplates[0].spec.storageClassName).to.equal("fast");
    expect(netpol(res, "monitoring-alertmanager-netpol").egress).to.deep.equal([]);
  });

  it("keeps a webhook URL from secret config in a Secret, read by Alertmanager from a file", async () => {
    const url = pulumi.secret("https://hooks.example.org/services/T000/B000/abcdefabcdef");
    await installMocks();
    const m = new Monitoring("monitoring", buildArgs({ alertWebhookUrl: url }));
    const other = await settle();
    const secret = get(other, "Secret", "monitoring-alertmanager-webhook");
    expect(secretValue(secret.inputs.stringData)).to.deep.equal({
      "webhook-url": "https://hooks.example.org/services/T000/B000/abcdefabcdef",
    });
    const am = parse(configData(other, "monitoring-alertmanager-config")["alertmanager.yml"]) as any;
    expect(am.route.receiver).to.equal("webhook");
    expect(am.receivers[1].webhook_configs[0].url_file).to.equal("/etc/alertmanager/secrets/webhook-url");
    const configMaps = JSON.stringify(ofType(other, "ConfigMap").map((c) => c.inputs.data));
    expect(configMaps).not.to.contain("hooks.example.org");
    const spec = get(other, "StatefulSet", "monitoring-alertmanager").inputs.spec.template.spec;
    expect(spec.volumes.find((v: any) => v.name === "webhook").secret.secretName).to.equal(
      "alertmanager-webhook",
    );
    const egress = netpol(other, "monitoring-alertmanager-netpol").egress;
    expect(egress.map((e: any) => [e.to[0].ipBlock.cidr, e.ports])).to.deep.equal([
      ["0.0.0.0/0", [{ port: 443, protocol: "TCP" }]],
    ]);
    expect(m.grafanaUrl).to.equal("https://grafana.example.org");
  });

  it("takes a plain webhook URL from settings and opens egress to its port only", async () => {
    const other = await deploy({ app: { alertWebhookUrl: "http://alerts.internal.example.org:8080/hook" } });
    expect(get(other, "Secret", "monitoring-alertmanager-webhook").inputs.stringData).to.not.equal(undefined);
    expect(netpol(other, "monitoring-alertmanager-netpol").egress[0].ports).to.deep.equal([
      { port: 8080, protocol: "TCP" },
    ]);
  });

  it("provisions Grafana's datasources and the three dashboards, with a generated admin password and no anonymous access", () => {
    const ds = parse(configData(res, "monitoring-grafana-datasources")["keel.yaml"]) as any;
    expect(ds.datasources.map((d: any) => [d.type, d.url])).to.deep.equal([
      ["prometheus", "http://prometheus:9090"],
      ["loki", "http://loki:3100"],
      ["alertmanager", "http://alertmanager:9093"],
    ]);
    const providers = parse(configData(res, "monitoring-grafana-dashboard-providers")["keel.yaml"]) as any;
    expect(providers.providers[0].options.path).to.equal("/etc/grafana/dashboards");
    const files = configData(res, "monitoring-grafana-dashboards");
    expect(Object.keys(files).sort()).to.deep.equal([
      "keel-postgres.json",
      "keel-redis.json",
      "keel-synapse.json",
    ]);
    for (const [file, text] of Object.entries(files)) {
      const d = JSON.parse(text as string);
      expect(d.schemaVersion, file).to.equal(39);
      expect(d.panels.length, file).to.be.greaterThan(5);
    }
    const c = container(res, "Deployment", "monitoring-grafana");
    const env = envOf(c);
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).to.equal("false");
    expect(env.GF_USERS_ALLOW_SIGN_UP).to.equal("false");
    expect(env.GF_PLUGINS_PREINSTALL_DISABLED).to.equal("true");
    expect(env.GF_SECURITY_ADMIN_PASSWORD).to.deep.equal({
      secretKeyRef: { name: "grafana-admin", key: "password" },
    });
    const mounts = c.volumeMounts.map((m: any) => m.mountPath);
    expect(mounts).to.include.members([
      "/var/lib/grafana",
      "/etc/grafana/provisioning/datasources",
      "/etc/grafana/provisioning/dashboards",
      "/etc/grafana/dashboards",
    ]);
    expect(c.securityContext.runAsUser).to.equal(472);
    const password = get(res, "RandomPassword", "monitoring-grafana-admin-password").inputs;
    expect(password.length).to.equal(32);
    expect(secretValue(get(res, "Secret", "monitoring-grafana-admin").inputs.stringData)).to.deep.equal({
      password: "generated-monitoring-grafana-admin-password-Zq8vK2mXw9",
    });
    const ingress = get(res, "Ingress", "monitoring-grafana-ingress").inputs.spec;
    expect(ingress.rules[0].host).to.equal("grafana.example.org");
    expect(ingress.tls[0].hosts).to.deep.equal(["grafana.example.org"]);
  });

  it("provisions only the dashboards asked for, plus extra specs", async () => {
    const other = await deploy({
      dashboards: ["redis"],
      extraDashboards: [
        {
          uid: "keel-extra",
          title: "Extra",
          namespaceMetric: "up",
          rows: [
            { title: "r", panels: [{ title: "up", queries: [{ expr: 'up{namespace=~"$namespace"}' }] }] },
          ],
        },
      ],
    });
    expect(Object.keys(configData(other, "monitoring-grafana-dashboards")).sort()).to.deep.equal([
      "keel-extra.json",
      "keel-redis.json",
    ]);
  });

  it("runs Loki as a single-binary StatefulSet on a PVC with compactor retention, fed by Alloy through the API", () => {
    const loki = get(res, "StatefulSet", "monitoring-loki").inputs.spec;
    expect(loki.volumeClaimTemplates[0].spec.storageClassName).to.equal("fast");
    expect(loki.template.spec.containers[0].args).to.deep.equal([
      "-config.file=/etc/loki/config/loki.yaml",
      "-target=all",
    ]);
    const cfg = parse(configData(res, "monitoring-loki-config")["loki.yaml"]) as any;
    expect(cfg.limits_config.retention_period).to.equal("720h");
    expect(cfg.compactor.retention_enabled).to.equal(true);
    const alloy = configData(res, "monitoring-alloy-config")["config.alloy"];
    expect(alloy).to.contain("loki.source.kubernetes");
    expect(alloy).to.contain('names = ["matrix", "monitoring", "osint"]');
    expect(alloy).to.contain('url = "http://loki:3100/loki/api/v1/push"');
    expect(get(res, "Deployment", "monitoring-alloy").inputs.spec.replicas).to.equal(1);
  });

  it("lets in only who needs each component, and lets Prometheus out only to targets, kubelets and the API server", () => {
    const from = (name: string) =>
      netpol(res, name).ingress.map((r: any) => ({
        from:
          r.from[0].podSelector?.matchLabels["app.kubernetes.io/name"] ??
          r.from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
        ports: r.ports.map((p: any) => p.port),
      }));
    expect(from("monitoring-grafana-netpol")).to.deep.equal([
      { from: "ingress-nginx", ports: [3000] },
      { from: "prometheus", ports: [3000] },
    ]);
    expect(from("monitoring-prometheus-netpol")).to.deep.equal([{ from: "grafana", ports: [9090] }]);
    expect(from("monitoring-loki-netpol")).to.deep.equal([
      { from: "alloy", ports: [3100] },
      { from: "grafana", ports: [3100] },
      { from: "prometheus", ports: [3100] },
    ]);
    expect(from("monitoring-alertmanager-netpol")).to.deep.equal([
      { from: "prometheus", ports: [9093] },
      { from: "grafana", ports: [9093] },
    ]);
    const egress = netpol(res, "monitoring-prometheus-netpol").egress;
    const toNamespace = (ns: string) =>
      egress.find(
        (e: any) =>
          e.to[0].namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === ns &&
          !e.to[0].podSelector,
      );
    expect(toNamespace("osint").ports.map((p: any) => p.port)).to.deep.equal([9121, 9187]);
    expect(toNamespace("matrix").ports.map((p: any) => p.port)).to.deep.equal([9000, 9187]);
    const cidrPorts = egress
      .filter((e: any) => e.to[0].ipBlock)
      .map((e: any) => e.ports.map((p: any) => p.port));
    expect(cidrPorts).to.deep.equal([[10250], [443, 6443]]);
    const alloyEgress = netpol(res, "monitoring-alloy-netpol").egress;
    expect(alloyEgress[0].to[0].podSelector.matchLabels["app.kubernetes.io/name"]).to.equal("loki");
    expect(alloyEgress[0].ports).to.deep.equal([{ port: 3100, protocol: "TCP" }]);
    expect(alloyEgress[1].ports.map((p: any) => p.port)).to.deep.equal([443, 6443]);
    expect(netpol(res, "monitoring-loki-netpol").egress).to.deep.equal([]);
  });

  it("narrows API server and kubelet egress to the given ranges", async () => {
    const other = await deploy({
      apiServer: { cidrs: ["10.0.0.1/32"], ports: [6443] },
      kubelet: { cidrs: ["192.168.10.0/24"] },
    });
    const ip = netpol(other, "monitoring-prometheus-netpol")
      .egress.filter((e: any) => e.to[0].ipBlock)
      .map((e: any) => [e.to[0].ipBlock.cidr, e.ports.map((p: any) => p.port)]);
    expect(ip).to.deep.equal([
      ["192.168.10.0/24", [10250]],
      ["10.0.0.1/32", [6443]],
    ]);
  });

  it("probes certificates with the stack's CA when given one", async () => {
    const other = await deploy(
      {},
      { probeCaCertificate: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----" },
    );
    expect(get(other, "ConfigMap", "monitoring-probe-ca").inputs.data["ca.crt"]).to.contain(
      "BEGIN CERTIFICATE",
    );
    const bb = parse(configData(other, "monitoring-blackbox-exporter-config")["blackbox.yml"]) as any;
    expect(bb.modules.tls_expiry.tcp.tls_config.ca_file).to.equal("/etc/blackbox/ca/ca.crt");
    const egress = netpol(other, "monitoring-blackbox-exporter-netpol").egress;
    expect(egress.map((e: any) => e.ports.map((p: any) => p.port))).to.deep.equal([
      [443, 8448],
      [443, 8448],
    ]);
  });

  it("renders the same configuration twice (no false diffs)", async () => {
    const again = await deploy();
    const data = (r: Recorded[]) =>
      ofType(r, "ConfigMap")
        .map((c) => [c.name, c.inputs.data])
        .sort();
    expect(JSON.stringify(data(again))).to.equal(JSON.stringify(data(res)));
  });

  it("refuses bad arguments before creating anything, naming every field", async () => {
    const bad: MonitoringArgs = {
      namespace: "Monitoring",
      dashboards: ["grafana" as any],
      alertThresholds: { postgresConnectionsRatio: 80 },
      apiServer: { cidrs: ["10.0.0.1"] },
      app: { logRetentionDays: -1 },
    };
    expect(validateMonitoringArgs(bad).map((e) => e.field)).to.deep.equal([
      "namespace",
      "dashboards[0]",
      "alertThresholds.postgresConnectionsRatio",
      "apiServer.cidrs[0]",
      "app.logRetentionDays",
    ]);
    // The peers it watches are known when it is built: the component checks them before creating anything.
    const badPeers: MonitoringPeers = {
      targets: [{ namespace: "osint", ports: [0] }],
      certificateEndpoints: ["http://example.org"],
    };
    expect(validateMonitoringPeers(badPeers).map((e) => e.field)).to.deep.equal([
      "targets[0].port",
      "certificateEndpoints[0]",
    ]);
    // The storage class is the site's, refused with the site.
    expect(
      validateSiteArgs({ domain: "example.org", storageClasses: { fast: "" } }).map((e) => e.field),
    ).to.deep.equal(["storageClasses.fast"]);
    expect(() => planMonitoring(testSite(), bad)).to.throw(/namespace: "Monitoring" is not a DNS-1123 label/);
    await installMocks();
    expect(() => new Monitoring("monitoring", buildArgs({}, badPeers))).to.throw(
      /targets\[0\]\.port: must be a port from 1 to 65535, got 0/,
    );
    const created = (await settle()).filter((r) => r.type.startsWith("kubernetes:"));
    expect(created).to.deep.equal([]);
    expect(validateMonitoringArgs({})).to.deep.equal([]);
    expect(validateMonitoringPeers(peers)).to.deep.equal([]);
  });

  it("declares its demand for the capacity check and fits the dev cluster", () => {
    const demand = [...planMonitoring(testSite()).demand];
    expect(demand.map((d) => d.name)).to.deep.equal([
      "monitoring/prometheus",
      "monitoring/alertmanager",
      "monitoring/blackboxExporter",
      "monitoring/kubeStateMetrics",
      "monitoring/grafana",
      "monitoring/loki",
      "monitoring/alloy",
    ]);
    // Every workload created is in the demand, with the resources it really requests.
    for (const { owner, spec } of podSpecs(res)) {
      const d = demand.find((x) =>
        owner.endsWith(x.name.split("/")[1].replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)),
      );
      expect(d, owner).to.not.equal(undefined);
      expect(spec.containers[0].resources.requests.cpu, owner).to.equal(d!.resources.requests.cpu);
    }
    expect(
      checkCapacity(
        { nodes: [{ count: 3, cpu: 8, memoryGi: 32 }], headroomPercent: 20, limitOvercommit: 2 },
        demand,
      ),
    ).to.deep.equal([]);
    const large = planMonitoring(testSite({ sizing: "large" }));
    expect(totalDemand([...large.demand]).requestsCpu).to.be.closeTo(
      totalDemand(demand).requestsCpu * 2,
      0.01,
    );
    expect(large.storageGi).to.equal((20 + 1 + 20) * 4);
  });
});

describe("the database exporters", () => {
  let res: Recorded[];
  before(async () => {
    await installMocks();
    const common = {
      namespace: "osint",
      partOf: "osint",
      images: new ImageResolver(),
      sizing: sizingProfile("small"),
    };
    new PostgresExporter("osint-postgres-exporter", {
      ...common,
      host: "postgres",
      database: "osint",
      user: "osint",
      password: { secretName: "postgres-credentials", key: "password" },
    });
    new RedisExporter("osint-redis-exporter", {
      ...common,
      host: "redis",
      password: { secretName: "redis-credentials", key: "password" },
    });
    res = await settle();
  });

  it("builds postgres-exporter's DSN from a URI, a user and a password from the Secret", async () => {
    const c = container(res, "Deployment", "osint-postgres-exporter");
    const env = envOf(c);
    const uri = await unwrap(pulumi.output(env.DATA_SOURCE_URI));
    expect(uri.value).to.equal("postgres:5432/osint?sslmode=disable");
    expect(env.DATA_SOURCE_USER).to.equal("osint");
    expect(env.DATA_SOURCE_PASS).to.deep.equal({
      secretKeyRef: { name: "postgres-credentials", key: "password" },
    });
    expect(JSON.stringify(c.env)).not.to.match(/postgres(ql)?:\/\/[^"]*:[^"]*@/);
    expect(c.image).to.equal(new ImageResolver().image("postgresExporter"));
    expect(c.ports).to.deep.equal([{ name: "metrics", containerPort: 9187, protocol: "TCP" }]);
  });

  it("passes REDIS_ADDR plainly and REDIS_PASSWORD from the Secret", async () => {
    const c = container(res, "Deployment", "osint-redis-exporter");
    const env = envOf(c);
    expect((await unwrap(pulumi.output(env.REDIS_ADDR))).value).to.equal("redis://redis:6379");
    expect(env.REDIS_PASSWORD).to.deep.equal({
      secretKeyRef: { name: "redis-credentials", key: "password" },
    });
    expect(c.securityContext.runAsUser).to.equal(59000);
    expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/health", port: 9121, scheme: "HTTP" });
  });

  it("carries the scrape annotations, lets Prometheus in and talks only to its server", () => {
    for (const [name, port, server, serverPort] of [
      ["osint-postgres-exporter", 9187, "postgres", 5432],
      ["osint-redis-exporter", 9121, "redis", 6379],
    ] as const) {
      const annotations = get(res, "Deployment", name).inputs.spec.template.metadata.annotations;
      expect(annotations["keel.dev/metrics-port"]).to.equal(String(port));
      expect(annotations["keel.dev/metrics-path"]).to.equal("/metrics");
      const policy = netpol(res, `${name}-netpol`);
      expect(policy.ingress).to.deep.equal([
        {
          from: [
            {
              podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            },
          ],
          ports: [{ port, protocol: "TCP" }],
        },
      ]);
      expect(policy.egress).to.deep.equal([
        {
          to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": server } } }],
          ports: [{ port: serverPort, protocol: "TCP" }],
        },
      ]);
    }
    expect(
      exporterDemand(sizingProfile("small"), "postgresExporter", "osint/postgres-exporter").resources,
    ).to.deep.equal(container(res, "Deployment", "osint-postgres-exporter").resources);
  });

  it("refuses bad exporter arguments, naming the field", () => {
    const args = {
      namespace: "osint",
      partOf: "osint",
      images: new ImageResolver(),
      sizing: sizingProfile("small"),
      host: "postgres",
      database: "Osint",
      user: "osint",
      password: { secretName: "x", key: "" },
      port: 70000,
    };
    expect(validatePostgresExporterArgs(args).map((e) => e.field)).to.deep.equal([
      "port",
      "database",
      "password",
    ]);
  });
});

describe("the policy pack over the monitoring stack alone", function () {
  this.timeout(60000);
  it("finds no mandatory violation", async () => {
    const res = await deploy(
      {},
      { probeCaCertificate: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----" },
    );
    const objects = res.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.inputs);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "keel-monitoring-")), "monitoring.json");
    fs.writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    const r = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, "policy-pack/bin/src/cli/audit.js"),
        "--format",
        "json",
        "--config",
        path.join(repoRoot, "policy-pack/config/dev.json"),
        file,
      ],
      { encoding: "utf8" },
    );
    if (r.status === 2) throw new Error(r.stderr);
    const findings = JSON.parse(r.stdout) as any[];
    const mandatory = findings.filter((f) => f.level === "mandatory");
    expect(mandatory.map((f) => `${f.rule} ${f.kind} ${f.namespace}/${f.name}: ${f.message}`)).to.deep.equal(
      [],
    );
    expect(r.status).to.equal(0);
    // The audit saw the stack: the documented automount exemptions are reported, not silently ignored.
    expect(objects.filter((o: any) => o.kind === "StatefulSet" || o.kind === "Deployment").length).to.equal(
      7,
    );
  });
});

import {
  ImageResolver,
  ValidationError,
  annotations,
  checkCapacity,
  detectionSeconds,
  parseMemory,
  sizingProfile,
} from "@keel/core";
import {
  Antivirus,
  AntivirusArgs,
  antivirusConcurrentReload,
  antivirusDemand,
  antivirusSynapseModule,
  parseSynapseSize,
  renderAvCheckerModule,
  renderClamdConf,
  renderClamdRunScript,
  renderFreshclamConf,
  renderScanWorkerScript,
  validateAntivirusArgs,
  validateAntivirusSettings,
} from "@keel/matrix";
import { expect } from "chai";
import { Recorded, get, installMocks, ofType, podSpecs, settle } from "./harness";

const mirror = {
  mode: "mirror" as const,
  url: "http://clamav-mirror.site.internal",
  peer: { cidr: "10.20.0.5/32" },
};

function avArgs(overrides: Partial<AntivirusArgs> = {}): AntivirusArgs {
  return {
    namespace: "matrix",
    sizing: sizingProfile("small"),
    images: new ImageResolver(),
    serverName: "example.org",
    airGapped: true,
    signatureSource: mirror,
    queue: { host: "redis", passwordRef: { secretName: "redis-credentials", key: "password" } },
    synapseMediaUrl: "http://synapse-media-repository:8008",
    synapseAdminUrl: "http://synapse-main:8008",
    synapsePeers: [
      { app: "synapse-media-repository", ports: [8008] },
      { app: "synapse-main", ports: [8008] },
    ],
    adminTokenRef: { secretName: "synapse-admin-token", key: "token" },
    scanClients: [{ app: "synapse-media-repository" }],
    ...overrides,
  };
}

async function deploy(overrides: Partial<AntivirusArgs> = {}): Promise<Recorded[]> {
  await installMocks();
  new Antivirus("matrix-av", avArgs(overrides));
  return settle();
}

const deployment = (res: Recorded[], name: string) => get(res, "Deployment", name).inputs;
const container = (res: Recorded[], name: string) => deployment(res, name).spec.template.spec.containers[0];
const envOf = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
const problems = (overrides: Partial<AntivirusArgs>) =>
  validateAntivirusArgs(avArgs(overrides)).map((p) => p.message);

describe("the Matrix antivirus: clamd", () => {
  let res: Recorded[];
  before(async () => {
    res = await deploy();
  });

  it("gives clamd at least 3Gi, a startup budget of ≥ 300 s and liveness that detects failure within 60 s", () => {
    const d = deployment(res, "matrix-av-clamav");
    const c = container(res, "matrix-av-clamav");
    expect(parseMemory(c.resources.limits.memory)).to.be.at.least(3 * 1024 ** 3);
    const boot = Number(d.metadata.annotations[annotations.bootSeconds]);
    expect(boot).to.be.at.least(300);
    expect(detectionSeconds(c.startupProbe)).to.be.at.least(boot);
    expect(detectionSeconds(c.livenessProbe)).to.be.at.most(60);
    expect(c.livenessProbe.initialDelaySeconds).to.equal(0);
    // Only PONG means the signatures are loaded (the port opens before).
    expect(c.startupProbe.exec.command).to.deep.equal(["clamdscan", "--ping=1"]);
    expect(c.readinessProbe.exec.command).to.deep.equal(["clamdscan", "--ping=1"]);
    expect(c.livenessProbe.exec.command).to.deep.equal(["clamdscan", "--ping=1"]);
    expect(c.image).to.equal("docker.io/clamav/clamav:1.5.1");
  });

  it("runs as the image's clamav user (uid 100) on a read-only root filesystem with scratch volumes where it writes", () => {
    const spec = deployment(res, "matrix-av-clamav").spec.template.spec;
    const c = spec.containers[0];
    expect(c.securityContext).to.deep.include({
      runAsNonRoot: true,
      runAsUser: 100,
      runAsGroup: 101,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(c.securityContext.capabilities.drop).to.deep.equal(["ALL"]);
    expect(spec.securityContext.fsGroup).to.equal(101);
    expect(spec.initContainers).to.equal(undefined);
    const mounts = Object.fromEntries(c.volumeMounts.map((m: any) => [m.mountPath, m]));
    for (const path of ["/var/lib/clamav-db", "/run/clamav", "/tmp", "/var/tmp/clamd"]) {
      const volume = spec.volumes.find((v: any) => v.name === mounts[path]?.name);
      expect(volume?.emptyDir, path).to.not.equal(undefined);
    }
    // Every thread may hold a 50M stream plus 200M of extracted content.
    const scanTmp = spec.volumes.find((v: any) => v.name === mounts["/var/tmp/clamd"].name);
    expect(parseMemory(scanTmp.emptyDir.sizeLimit)).to.equal(10 * 250 * 1024 ** 2);
    expect(mounts["/etc/clamav"].readOnly).to.equal(true);
    expect(c.command).to.deep.equal(["/sbin/tini", "--", "/bin/sh", "/opt/keel/clamav-run.sh"]);
    const script = get(res, "ConfigMap", "matrix-av-clamav-scripts").inputs.data["clamav-run.sh"];
    expect(script).to.equal(renderClamdRunScript());
  });

  it("renders clamd.conf with TCP 3310 and limits that follow Synapse's max_upload_size", async () => {
    const conf = get(res, "ConfigMap", "matrix-av-clamav-config").inputs.data["clamd.conf"];
    expect(conf).to.match(/^TCPSocket 3310$/m);
    expect(conf).to.match(/^StreamMaxLength 50M$/m);
    expect(conf).to.match(/^MaxFileSize 50M$/m);
    expect(conf).to.match(/^MaxScanSize 200M$/m);
    expect(conf).to.match(/^DatabaseDirectory \/var\/lib\/clamav-db$/m);
    expect(conf).to.match(/^ConcurrentDatabaseReload yes$/m);
    expect(conf).not.to.match(/^User /m);
    const bigger = await deploy({ maxUploadSize: "100M" });
    const conf100 = get(bigger, "ConfigMap", "matrix-av-clamav-config").inputs.data["clamd.conf"];
    expect(conf100).to.match(/^StreamMaxLength 100M$/m);
    expect(conf100).to.match(/^MaxScanSize 400M$/m);
    expect(renderClamdConf({ maxUploadBytes: 1536 * 1024, concurrentDatabaseReload: false })).to.match(
      /^StreamMaxLength 1536K$/m,
    );
  });

  it("blocks reloads (and freshclam's trial load) only when the limit cannot hold two databases", async () => {
    expect(antivirusConcurrentReload(avArgs())).to.equal(true);
    const tight = {
      signatureMemory: "2Gi",
      clamdResources: { requests: { cpu: "500m", memory: "3Gi" }, limits: { cpu: "2", memory: "4Gi" } },
    };
    expect(antivirusConcurrentReload(avArgs(tight))).to.equal(false);
    const res2 = await deploy(tight);
    const data = get(res2, "ConfigMap", "matrix-av-clamav-config").inputs.data;
    expect(data["clamd.conf"]).to.match(/^ConcurrentDatabaseReload no$/m);
    expect(data["freshclam.conf"]).to.match(/^TestDatabases no$/m);
    // A blocking reload stalls PING; liveness then watches the port.
    const c = container(res2, "matrix-av-clamav");
    expect(c.livenessProbe.tcpSocket.port).to.equal(3310);
    expect(detectionSeconds(c.livenessProbe)).to.be.at.most(60);
    const roomy = { ...tight, signatureMemory: "1Gi" };
    expect(antivirusConcurrentReload(avArgs(roomy))).to.equal(true);
  });

  it("points freshclam at the site's mirror only, notifies clamd, and bootstraps without notifying", () => {
    const data = get(res, "ConfigMap", "matrix-av-clamav-config").inputs.data;
    const conf = data["freshclam.conf"];
    expect(conf).to.match(/^PrivateMirror http:\/\/clamav-mirror\.site\.internal$/m);
    expect(conf).not.to.contain("database.clamav.net");
    expect(conf).to.match(/^Checks 12$/m);
    expect(conf).to.match(/^NotifyClamd \/etc\/clamav\/clamd\.conf$/m);
    expect(conf).to.match(/^DatabaseDirectory \/var\/lib\/clamav-db$/m);
    expect(data["freshclam-bootstrap.conf"]).not.to.contain("NotifyClamd");
    expect(data["freshclam-bootstrap.conf"]).to.contain("PrivateMirror http://clamav-mirror.site.internal");
    const internet = renderFreshclamConf({
      source: { mode: "internet" },
      checksPerDay: 24,
      testDatabases: true,
      notifyClamd: true,
    });
    expect(internet).to.match(/^DatabaseMirror database\.clamav\.net$/m);
    expect(internet).to.match(/^Checks 24$/m);
    expect(internet).not.to.contain("PrivateMirror");
  });

  it("lets clamd reach only the mirror's host and port, and only the workers and Synapse reach clamd", async () => {
    const policy = get(res, "NetworkPolicy", "matrix-av-clamav-netpol").inputs.spec;
    expect(policy.egress).to.have.length(1);
    expect(policy.egress[0].to).to.have.length(1);
    expect(policy.egress[0].to[0].ipBlock.cidr).to.equal("10.20.0.5/32");
    expect(policy.egress[0].ports).to.deep.equal([{ port: 80, protocol: "TCP" }]);
    const from = policy.ingress.map(
      (rule: any) => rule.from[0].podSelector.matchLabels["app.kubernetes.io/name"],
    );
    expect(from).to.deep.equal(["av-scan-worker", "synapse-media-repository"]);
    for (const rule of policy.ingress) expect(rule.ports).to.deep.equal([{ port: 3310, protocol: "TCP" }]);

    const https = await deploy({
      signatureSource: { ...mirror, url: "https://mirror.site.internal:8443/clamav" },
    });
    const egress = get(https, "NetworkPolicy", "matrix-av-clamav-netpol").inputs.spec.egress;
    expect(egress[0].ports).to.deep.equal([{ port: 8443, protocol: "TCP" }]);

    const open = await deploy({ airGapped: false, signatureSource: { mode: "internet" } });
    const openEgress = get(open, "NetworkPolicy", "matrix-av-clamav-netpol").inputs.spec.egress;
    expect(openEgress[0].to[0].ipBlock.cidr).to.equal("0.0.0.0/0");
    expect(openEgress[0].ports.map((p: any) => p.port)).to.deep.equal([80, 443]);
  });

  it("adds a PDB for clamd only when it runs more than one replica", async () => {
    expect(ofType(res, "PodDisruptionBudget").map((p) => p.name)).not.to.include("matrix-av-clamav-pdb");
    const two = await deploy({ clamdReplicas: 2 });
    expect(deployment(two, "matrix-av-clamav").spec.replicas).to.equal(2);
    expect(get(two, "PodDisruptionBudget", "matrix-av-clamav-pdb").inputs.spec.maxUnavailable).to.equal(1);
  });
});

describe("the Matrix antivirus: scan workers and the Synapse module", () => {
  let res: Recorded[];
  before(async () => {
    res = await deploy({ workerAutoscaling: { minReplicas: 2, maxReplicas: 6 } });
  });

  it("autoscales the workers on CPU between the given bounds, with a PDB", () => {
    const hpa = get(res, "HorizontalPodAutoscaler", "matrix-av-scan-worker-hpa").inputs.spec;
    expect(hpa).to.deep.include({ minReplicas: 2, maxReplicas: 6 });
    expect(hpa.metrics[0].resource.name).to.equal("cpu");
    expect(deployment(res, "matrix-av-scan-worker").spec).to.not.have.property("replicas"); // the HPA's
    expect(get(res, "PodDisruptionBudget", "matrix-av-scan-worker-pdb").inputs.spec.maxUnavailable).to.equal(
      1,
    );
  });

  it("runs the stdlib-only worker script on the pinned Python, non-root and read-only, secrets from Secrets", () => {
    const c = container(res, "matrix-av-scan-worker");
    expect(c.image).to.equal("docker.io/library/python:3.13.9-slim-bookworm");
    expect(c.command).to.deep.equal(["python3", "/opt/keel/av_scan_worker.py"]);
    expect(c.securityContext).to.deep.include({ runAsNonRoot: true, readOnlyRootFilesystem: true });
    const env = envOf(c);
    expect(env.AV_REDIS_PASSWORD).to.deep.equal({
      secretKeyRef: { name: "redis-credentials", key: "password" },
    });
    expect(env.AV_SYNAPSE_ADMIN_TOKEN).to.deep.equal({
      secretKeyRef: { name: "synapse-admin-token", key: "token" },
    });
    expect(env.AV_CONSUMER).to.deep.equal({ fieldRef: { fieldPath: "metadata.name" } });
    expect(env).to.deep.include({
      AV_REDIS_HOST: "redis",
      AV_STREAM: "av:scan",
      AV_RESULTS_STREAM: "av:results",
      AV_DEAD_LETTER_STREAM: "av:dead",
      AV_CLAMD_HOST: "clamav",
      AV_FAIL_MODE: "closed",
    });
    const script = get(res, "ConfigMap", "matrix-av-scan-worker-script").inputs.data["av_scan_worker.py"];
    expect(script).to.equal(renderScanWorkerScript());
    expect(c.livenessProbe.httpGet.path).to.equal("/healthz");
    expect(c.readinessProbe.httpGet.path).to.equal("/readyz");
    expect(detectionSeconds(c.livenessProbe)).to.be.at.most(60);
    // Long enough to finish the job in hand (download, scan, quarantine) after SIGTERM.
    expect(
      deployment(res, "matrix-av-scan-worker").spec.template.spec.terminationGracePeriodSeconds,
    ).to.be.at.least(180);
  });

  it("lets the workers reach clamd, the queue and Synapse only", () => {
    const egress = get(res, "NetworkPolicy", "matrix-av-scan-worker-netpol").inputs.spec.egress;
    const peers = egress.map((e: any) => [
      e.to[0].podSelector.matchLabels["app.kubernetes.io/name"],
      e.ports.map((p: any) => p.port),
    ]);
    expect(peers).to.deep.equal([
      ["clamav", [3310]],
      ["redis", [6379]],
      ["synapse-media-repository", [8008]],
      ["synapse-main", [8008]],
    ]);
    expect(get(res, "NetworkPolicy", "matrix-av-scan-worker-netpol").inputs.spec.ingress).to.deep.equal([]);
  });

  it("renders the Synapse module into a ConfigMap and hands Synapse its module entry, mount, env and egress", async () => {
    await installMocks();
    const av = new Antivirus("matrix-av", avArgs({ syncScanMaxSize: "4M" }));
    const created = await settle();
    const cm = get(created, "ConfigMap", "matrix-av-synapse-module").inputs;
    expect(cm.metadata).to.deep.include({ name: "av-synapse-module", namespace: "matrix" });
    expect(cm.data["synapse_av_checker.py"]).to.equal(renderAvCheckerModule());
    expect(av.synapse.module).to.equal("synapse_av_checker.AvChecker");
    expect(av.synapse.config).to.deep.equal({
      server_name: "example.org",
      clamd_host: "clamav",
      clamd_port: 3310,
      clamd_timeout_seconds: 60,
      sync_max_bytes: 4 * 1024 ** 2,
      fail_closed: true,
      redis_host: "redis",
      redis_port: 6379,
      redis_password_env: "AV_QUEUE_PASSWORD",
      stream: "av:scan",
    });
    expect(av.synapse.env).to.deep.equal({ PYTHONPATH: "/modules/keel-av" });
    expect(av.synapse.mountPath).to.equal("/modules/keel-av");
    expect(av.synapse.secretEnv.AV_QUEUE_PASSWORD.key).to.equal("password");
    expect(av.synapse.egressTo).to.deep.equal([
      { app: "clamav", ports: [3310] },
      { app: "redis", ports: [6379] },
    ]);
    expect(antivirusSynapseModule(avArgs({ failMode: "open" })).config.fail_closed).to.equal(false);
  });

  it("keeps every credential out of ConfigMaps and literal env", () => {
    for (const cm of ofType(res, "ConfigMap")) {
      expect(JSON.stringify(cm.inputs.data)).not.to.match(/generated-|requirepass|Bearer [A-Za-z0-9]/);
    }
    for (const { spec } of podSpecs(res)) {
      for (const e of spec.containers[0].env) {
        if (/PASSWORD|TOKEN/.test(e.name)) expect(e.value, e.name).to.equal(undefined);
      }
    }
  });

  it("renders every file deterministically (no false diffs)", async () => {
    const again = await deploy({ workerAutoscaling: { minReplicas: 2, maxReplicas: 6 } });
    for (const cm of ofType(res, "ConfigMap")) {
      expect(get(again, "ConfigMap", cm.name).inputs.data).to.deep.equal(cm.inputs.data);
    }
    const hash = (r: Recorded[], n: string) =>
      deployment(r, n).spec.template.metadata.annotations[annotations.configHash];
    expect(hash(again, "matrix-av-clamav")).to.equal(hash(res, "matrix-av-clamav"));
    expect(hash(again, "matrix-av-scan-worker")).to.equal(hash(res, "matrix-av-scan-worker"));
  });
});

describe("the Matrix antivirus: validation and demand", () => {
  it("refuses internet signatures on an air-gapped site, naming the field", () => {
    const msgs = problems({ airGapped: true, signatureSource: { mode: "internet" } });
    expect(msgs).to.have.length(1);
    expect(msgs[0]).to.match(/^signatureSource\.mode: .*air-gapped.*mirror/);
    expect(problems({ airGapped: false, signatureSource: { mode: "internet" } })).to.deep.equal([]);
  });

  it("refuses a clamd memory limit below 3Gi and says why", () => {
    const msgs = problems({
      clamdResources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
    });
    expect(
      msgs.some((m) => /^clamdResources\.limits\.memory: must be at least 3Gi, got 2Gi: .*reload/.test(m)),
    ).to.equal(true);
    expect(problems({ signatureMemory: "3Gi" }).join("\n")).to.match(/^signatureMemory: /);
  });

  it("names the field for every other bad value", () => {
    const cases: [Partial<AntivirusArgs>, RegExp][] = [
      [{ signatureSource: { ...mirror, url: "ftp://mirror" } }, /^signatureSource\.url: /],
      [{ signatureSource: { mode: "mirror", url: mirror.url } as any }, /^signatureSource\.peer: /],
      [{ signatureSource: { mode: "cdn" } as any }, /^signatureSource\.mode: must be "internet" or "mirror"/],
      [{ signatureChecksPerDay: 51 }, /^signatureChecksPerDay: must be an integer from 1 to 50/],
      [{ maxUploadSize: "50MB" }, /^maxUploadSize: "50MB" is not a size in Synapse's notation/],
      [{ maxUploadSize: "2048M" }, /^maxUploadSize: must be at most 1024M/],
      [{ syncScanMaxSize: "100M" }, /^syncScanMaxSize: must not exceed maxUploadSize/],
      [{ failMode: "maybe" as any }, /^failMode: /],
      [{ clamdReplicas: 0 }, /^clamdReplicas: /],
      [{ queue: { host: "redis.other.svc", passwordRef: { secretName: "s", key: "k" } } }, /^queue\.peer: /],
      [{ queue: { host: "Redis!", passwordRef: { secretName: "s", key: "k" } } }, /^queue\.host: /],
      [{ resultsStream: "av:scan" }, /^resultsStream: .*three different keys/],
      [{ maxAttempts: 0 }, /^maxAttempts: /],
      [{ workerAutoscaling: { minReplicas: 3, maxReplicas: 2 } }, /^workerAutoscaling: /],
      [{ synapseAdminUrl: "synapse-main:8008" }, /^synapseAdminUrl: /],
      [{ synapsePeers: [] }, /^synapsePeers: /],
      [{ serverName: "exa mple.org" }, /^serverName: /],
    ];
    for (const [overrides, re] of cases) {
      const msgs = problems(overrides);
      expect(msgs, JSON.stringify(overrides)).to.have.length(1);
      expect(msgs[0]).to.match(re);
    }
    expect(problems({})).to.deep.equal([]);
  });

  it("validates its settings before any Secret exists, and the Secret references only with the args", () => {
    const args = avArgs();
    const queue = args.queue;
    const settings = { ...args, adminTokenRef: undefined, queue: { host: queue.host } };
    expect(validateAntivirusSettings(settings)).to.deep.equal([]);
    expect(validateAntivirusSettings({ ...settings, maxAttempts: 0 }).map((p) => p.field)).to.deep.equal([
      "maxAttempts",
    ]);
    const missing = validateAntivirusArgs({
      ...settings,
      queue: { ...queue, passwordRef: undefined as any },
    });
    expect(missing.map((p) => p.field)).to.deep.equal(["queue.passwordRef", "adminTokenRef"]);
  });

  it("throws before creating anything", async () => {
    await installMocks();
    expect(() => new Antivirus("bad", avArgs({ signatureSource: { mode: "internet" } }))).to.throw(
      ValidationError,
      /signatureSource\.mode/,
    );
    expect((await settle()).filter((r) => r.type.startsWith("kubernetes:"))).to.deep.equal([]);
  });

  it("parses sizes the way Synapse does (K and M are ×1024)", () => {
    expect(parseSynapseSize("50M", "f")).to.equal(50 * 1024 ** 2);
    expect(parseSynapseSize("512K", "f")).to.equal(512 * 1024);
    expect(parseSynapseSize(1000, "f")).to.equal(1000);
    expect(() => parseSynapseSize("1G", "maxUploadSize")).to.throw(/^maxUploadSize: /);
  });

  it("declares its demand at full scale: clamd replicas and the workers' HPA maximum", () => {
    const demand = antivirusDemand(
      avArgs({ clamdReplicas: 2, workerAutoscaling: { minReplicas: 2, maxReplicas: 8 } }),
    );
    expect(demand.map((d) => [d.name, d.replicas])).to.deep.equal([
      ["matrix/clamav", 2],
      ["matrix/av-scan-worker", 8],
    ]);
    expect(parseMemory(demand[0].resources.limits.memory)).to.be.at.least(3 * 1024 ** 3);
    const capacity = { nodes: [{ count: 3, cpu: 8, memoryGi: 32 }], headroomPercent: 20, limitOvercommit: 2 };
    expect(checkCapacity(capacity, demand)).to.deep.equal([]);
    const large = antivirusDemand(avArgs({ sizing: sizingProfile("large") }));
    expect(large.map((d) => d.replicas)).to.deep.equal([3, 9]);
    expect(parseMemory(large[0].resources.limits.memory)).to.equal(6 * 1024 ** 3);
  });
});

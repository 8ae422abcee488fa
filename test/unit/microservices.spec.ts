import { parseMemory } from "@keel/core";
import {
  Microservices,
  MicroservicesArgs,
  MicroservicesPlan,
  planMicroservices,
  renderClickhouseConfig,
  validateMicroservicesArgs,
} from "@keel/microservices";
import { expect } from "chai";
import { planConfig, testSite, testTls } from "./fixtures";
import { Recorded, get, installMocks, ofType, settle } from "./harness";

/** The test site with four dumps kept. */
const site = () => testSite({ backup: { retain: 4 } });

async function deployMicroservices(args: MicroservicesArgs = {}): Promise<Recorded[]> {
  await installMocks();
  new Microservices("microservices", { plan: planMicroservices(site(), args), tls: testTls });
  return settle();
}

const container = (res: Recorded[], kind: string, name: string) =>
  get(res, kind, name).inputs.spec.template.spec.containers[0];
const envOf = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("the microservices platform", () => {
  let res: Recorded[];
  before(async () => {
    res = await deployMicroservices();
  });

  it("autoscales ai-service 2–10, browser-pool 2–5, audit-sink 2–8 and message-queue 2–6, each with a PDB", () => {
    const ranges: Record<string, [number, number]> = {
      "ai-service": [2, 10],
      "browser-pool": [2, 5],
      "audit-sink": [2, 8],
      "message-queue": [2, 6],
    };
    for (const [app, [min, max]] of Object.entries(ranges)) {
      const hpa = ofType(res, "HorizontalPodAutoscaler").find((h) => h.inputs.metadata.name === app)!;
      expect(hpa.inputs.spec, app).to.deep.include({ minReplicas: min, maxReplicas: max });
      expect(
        ofType(res, "PodDisruptionBudget").find((p) => p.inputs.metadata.name === app),
        app,
      ).to.exist;
    }
  });

  it("runs the prebuilt browser pool as pwuser, /dev/shm in memory, zombies reaped by PID 1, nothing fetched at start", () => {
    const pod = get(res, "Deployment", "microservices-browser-pool").inputs.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).to.equal("ghcr.io/santaclaude/browser-pool-service:2.0.0");
    expect(c.command).to.equal(undefined);
    expect(JSON.stringify(c.env)).not.to.match(/NPM_|npx/);
    expect(c.securityContext.runAsUser).to.equal(1001);
    expect(pod.shareProcessNamespace).to.equal(true);
    const shm = pod.volumes.find((v: any) => v.name === "dshm");
    expect(shm.emptyDir).to.deep.equal({ sizeLimit: "1Gi", medium: "Memory" });
    expect(c.volumeMounts).to.deep.include({ name: "dshm", mountPath: "/dev/shm" });
    expect(parseMemory(c.resources.limits.memory)).to.be.at.least(2 * 1024 ** 3);
  });

  it("refuses a /dev/shm that the memory limit cannot hold", () => {
    const problems = validateMicroservicesArgs(site(), { app: { browserShmGi: 4 } });
    expect(problems.map((p) => p.field)).to.deep.equal(["browserPool.resources.limits.memory"]);
  });

  it("pins ClickHouse 26.3, runs it as uid 101, probes /ping on 8123 and bounds its memory", () => {
    const sts = get(res, "StatefulSet", "microservices-clickhouse").inputs.spec.template.spec;
    const c = sts.containers[0];
    expect(c.image).to.match(/^docker\.io\/clickhouse\/clickhouse-server:26\.3\.\d+\.\d+$/);
    expect(sts.securityContext).to.deep.include({ runAsUser: 101, runAsGroup: 101, fsGroup: 101 });
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"])
      expect(c[probe].httpGet, probe).to.deep.include({ path: "/ping", port: 8123 });
    const conf = get(res, "ConfigMap", "microservices-clickhouse-config").inputs.data["keel.xml"];
    const limit = parseMemory(c.resources.limits.memory);
    expect(conf).to.contain(`<max_server_memory_usage>${Math.floor(limit * 0.8)}</max_server_memory_usage>`);
    expect(renderClickhouseConfig(limit)).to.equal(conf);
    expect(envOf(c).CLICKHOUSE_PASSWORD).to.have.nested.property("secretKeyRef.key", "password");
    const backup = get(res, "CronJob", "microservices-clickhouse-backup").inputs;
    expect(backup.metadata.annotations).to.deep.include({
      "keel.dev/backup-of": "microservices/clickhouse",
      "keel.dev/backup-retention": "4",
    });
  });

  it("keeps the message queue on Redis Streams that never evict and persist to an append-only file", () => {
    const c = container(res, "StatefulSet", "microservices-redis");
    const arg = (flag: string) => c.args[c.args.indexOf(flag) + 1];
    expect(arg("--maxmemory-policy")).to.equal("noeviction");
    expect(arg("--appendonly")).to.equal("yes");
    const claims = get(res, "StatefulSet", "microservices-redis").inputs.spec.volumeClaimTemplates;
    expect(claims[0].spec.storageClassName).to.equal("fast");
    expect(envOf(container(res, "Deployment", "microservices-message-queue")).STREAM_MAX_LENGTH).to.equal(
      "100000",
    );
  });

  it("passes API keys only from Secrets: a generated service key, provider keys only when provided", async () => {
    const ai = envOf(container(res, "Deployment", "microservices-ai-service"));
    expect(ai.SERVICE_API_KEY).to.have.nested.property("secretKeyRef.key", "service-api-key");
    expect(ai).not.to.have.property("OPENAI_API_KEY");
    const withKeys = await deployMicroservices({ providerKeys: { openai: "sk-test-provided" } });
    const env = envOf(container(withKeys, "Deployment", "microservices-ai-service"));
    expect(env.OPENAI_API_KEY).to.have.nested.property("secretKeyRef.key", "openai-api-key");
    expect(env).not.to.have.property("ANTHROPIC_API_KEY");
    const elsewhere = JSON.stringify(
      withKeys.filter((r) => !r.type.endsWith(":Secret")).map((r) => r.inputs),
    );
    expect(elsewhere).not.to.contain("sk-test-provided");
  });
});

describe("building blocks added for the new platforms", () => {
  it("refuses a scheduled backup that keeps every dump (no retention)", async () => {
    const { validateScheduledBackupArgs } = await import("@keel/core");
    const problems = validateScheduledBackupArgs({
      namespace: "x",
      partOf: "x",
      databaseId: "x/db",
      serverApp: "db",
      serverPorts: [1],
      image: "docker.io/library/postgres:17.6",
      runAsUser: 999,
      script: "dump > /backups/x",
      policy: { storageClass: "bulk", retain: 0 },
    });
    expect(problems.map((p) => p.field).sort()).to.deep.equal(["backup.retain", "script"]);
  });

  it("budgets a namespace for its demand with every workload surging, and for the storage it claims", async () => {
    const { namespaceBudget, sizingProfile } = await import("@keel/core");
    const budget = namespaceBudget(
      [
        {
          name: "a",
          replicas: 2,
          resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
        },
      ],
      sizingProfile("large"),
      100,
    );
    // The largest profile: 2 replicas surge by one pod (a quarter, rounded up): 3 pods' worth.
    expect(budget).to.deep.equal({
      requests: { cpu: "3000m", memory: "3072Mi" },
      limits: { cpu: "6000m", memory: "6144Mi" },
      pods: 9,
      storage: "125Gi",
    });
  });

  it("holds a second pod of a single-replica workload, so its rolling update is not refused", async () => {
    const { namespaceBudget, sizingProfile } = await import("@keel/core");
    const pod = { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } };
    const budget = namespaceBudget(
      [
        { name: "coturn", replicas: 1, resources: pod },
        { name: "web", replicas: 8, resources: pod },
      ],
      sizingProfile("large"),
    );
    // coturn 1 + 1, web 8 + 2: 12 pods' worth.
    expect(budget.requests).to.deep.equal({ cpu: "6000m", memory: "12288Mi" });
    expect(budget.limits).to.deep.equal({ cpu: "12000m", memory: "24576Mi" });
  });

  // e2e (i) going back from medium to small: coturn's new small pod was refused next to its old medium one
  // by a quota sized for small pods only, and the up failed after 600 s.
  it("holds a rollout onto a smaller profile next to the old pods of any bigger one", async () => {
    const { namespaceBudget, parseCpu, parseMemory, sized, sizingProfile, sizingProfileNames } =
      await import("@keel/core");
    const base = { requests: { cpu: "300m", memory: "384Mi" }, limits: { cpu: "1", memory: "1Gi" } };
    const profiles = sizingProfileNames.map(sizingProfile);
    for (const to of profiles) {
      const budget = namespaceBudget([{ name: "coturn", replicas: 1, resources: sized(to, base) }], to);
      for (const from of profiles) {
        // The old pod keeps its size until the new (surge) pod is ready.
        const peak = [sized(from, base), sized(to, base)];
        const id = `${from.name} -> ${to.name}`;
        const sum = (f: (r: typeof base) => number) => peak.reduce((n, r) => n + f(r), 0);
        expect(parseCpu(budget.requests.cpu), id).to.be.at.least(sum((r) => parseCpu(r.requests.cpu)));
        expect(parseCpu(budget.limits.cpu), id).to.be.at.least(sum((r) => parseCpu(r.limits.cpu)));
        expect(parseMemory(budget.requests.memory), id).to.be.at.least(
          sum((r) => parseMemory(r.requests.memory)),
        );
        expect(parseMemory(budget.limits.memory), id).to.be.at.least(
          sum((r) => parseMemory(r.limits.memory)),
        );
      }
    }
  });
});

describe("stack config for the new platforms", () => {
  it("accepts every platform and validates each platform's settings, naming the key", async () => {
    const { parseStackConfig } = await import("../../program/config");
    const { cfg, plans } = planConfig({
      domain: "example.org",
      platforms: ["aiCore", "osint", "media", "webrtc", "microservices"],
      webrtc: { coturn: false },
    });
    expect(cfg.webrtc.coturn).to.equal(false);
    expect((plans.microservices as MicroservicesPlan).settings.streamMaxLength).to.equal(100000);
    expect(() => parseStackConfig({ domain: "example.org", webrtc: { stun: true } })).to.throw(
      /keel:webrtc\.stun: is not a known key/,
    );
    expect(() =>
      planConfig({ domain: "example.org", platforms: ["microservices"], microservices: { browserShmGi: 0 } }),
    ).to.throw(/keel:microservices\.browserShmGi/);
    expect(() =>
      planConfig({ domain: "example.org", platforms: ["media"], media: { timezone: "not a zone" } }),
    ).to.throw(/keel:media\.timezone/);
  });
});

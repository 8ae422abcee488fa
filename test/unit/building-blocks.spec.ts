import {
  ImageResolver,
  Namespace,
  ValidationError,
  checkCapacity,
  checkConnectionBudget,
  containerDefaultsWithin,
  detectionSeconds,
  imageCatalog,
  isPinnedTag,
  parseCpu,
  parseMemory,
  postgresTuning,
  redisMaxmemory,
  rewriteRegistry,
  secretReason,
  validateNamespaceArgs,
} from "@keel/core";
import { expect } from "chai";
import { get, installMocks, ofType, settle } from "./harness";

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;

describe("quantities", () => {
  it("parses memory and CPU quantities and names the field on bad input", () => {
    expect(parseMemory("512Mi")).to.equal(512 * Mi);
    expect(parseMemory("2Gi")).to.equal(2 * Gi);
    expect(parseMemory("1G")).to.equal(1e9);
    expect(parseCpu("250m")).to.equal(0.25);
    expect(parseCpu("2")).to.equal(2);
    expect(() => parseMemory("2 gigs", "resources.limits.memory")).to.throw(
      ValidationError,
      /resources.limits.memory/,
    );
  });
});

describe("image catalog", () => {
  it("pins every catalog image to an exact version", () => {
    for (const [key, image] of Object.entries(imageCatalog))
      expect(isPinnedTag(image.tag), key).to.equal(true);
  });

  it("pins the LI Synapse to the site's build of main's Synapse version (LI replicates main's schema)", () => {
    const main = imageCatalog.synapse.tag.replace(/^v/, "");
    expect(imageCatalog.synapseLi.tag.startsWith(`${main}-li.`), imageCatalog.synapseLi.tag).to.equal(true);
    expect(imageCatalog.synapseLi.tag.slice(main.length)).to.match(/^-li\.\d+$/);
  });

  it("treats latest, branch names and version-less tags as mutable", () => {
    for (const tag of ["latest", "master", "main", "stable", "edge", "nightly", "alpine"])
      expect(isPinnedTag(tag), tag).to.equal(false);
    for (const tag of ["17.6", "v1.13.2", "26.3.3", "8.2.1-bookworm"])
      expect(isPinnedTag(tag), tag).to.equal(true);
  });

  it("rewrites every image to the private registry when one is set", () => {
    expect(rewriteRegistry("docker.io/library/postgres:17.6", "registry.local:5000/mirror")).to.equal(
      "registry.local:5000/mirror/library/postgres:17.6",
    );
    const all = new ImageResolver("registry.local").all();
    expect(all.every((i) => i.startsWith("registry.local/"))).to.equal(true);
    expect(
      new ImageResolver(undefined, { redis: { repository: "docker.io/library/redis", tag: "8.2.2" } }).image(
        "redis",
      ),
    ).to.equal("docker.io/library/redis:8.2.2");
  });
});

describe("secret detection", () => {
  it("flags DSNs with passwords, PEM blocks and credential-named values, not their file paths", () => {
    expect(
      secretReason("POSTGRES_DSN", "postgresql://juneadmin:juneP%40ssw0rd2024@postgres:5432/x"),
    ).to.match(/password/);
    expect(secretReason("KEY", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc")).to.match(/PEM/);
    expect(secretReason("RABBITMQ_DEFAULT_PASS", "juneR@bbit2024")).to.match(/credential/);
    expect(secretReason("PASSWORD_FILE", "/run/secrets/pw")).to.equal(undefined);
    expect(secretReason("redis_password_env", "AV_QUEUE_PASSWORD")).to.equal(undefined);
    expect(secretReason("ELASTIC_URL", "http://elasticsearch:9200")).to.equal(undefined);
  });
});

describe("probe arithmetic", () => {
  it("computes failure detection as initialDelay + period × failureThreshold with Kubernetes defaults", () => {
    expect(
      detectionSeconds({
        exec: { command: ["x"] },
        initialDelaySeconds: 90,
        periodSeconds: 30,
        failureThreshold: 5,
      }),
    ).to.equal(240);
    expect(detectionSeconds({ tcp: { port: 1 } })).to.equal(30);
  });
});

describe("PostgreSQL tuning", () => {
  it("keeps shared_buffers at 25 %, effective_cache_size within 75 % and work_mem × connections within the limit", () => {
    const limit = 4 * Gi;
    const t = postgresTuning(limit, 100);
    expect(t.sharedBuffersMb).to.equal(1024);
    expect(t.effectiveCacheSizeMb * Mi).to.be.at.most(limit * 0.75);
    expect(
      (t.sharedBuffersMb + t.maintenanceWorkMemMb) * Mi + t.workMemKb * 1024 * t.maxConnections,
    ).to.be.at.most(limit);
  });

  it("refuses a limit too small for the connection count", () => {
    expect(() => postgresTuning(128 * Mi, 2000)).to.throw(ValidationError, /work_mem/);
  });

  it("checks consumers' pools against max_connections minus the reserve (the Synapse cp_max finding)", () => {
    expect(checkConnectionBudget("pg", 100, 10, [{ name: "a", poolSize: 10, maxReplicas: 9 }])).to.deep.equal(
      [],
    );
    const [problem] = checkConnectionBudget("pg", 100, 10, [
      { name: "synapse-main", poolSize: 10, maxReplicas: 1 },
      { name: "synapse-generic", poolSize: 10, maxReplicas: 9 },
    ]);
    expect(problem.field).to.equal("pg.consumers");
    expect(problem.message).to.match(/need 100 .* = 90/);
  });
});

describe("Redis", () => {
  it("derives maxmemory below the limit with headroom", () => {
    expect(redisMaxmemory(1 * Gi)).to.equal(Math.floor(0.7 * Gi));
  });
});

describe("capacity", () => {
  const capacity = { nodes: [{ count: 23, cpu: 4, memoryGi: 16 }], headroomPercent: 10, limitOvercommit: 1 };
  it("refuses limits beyond the cluster (96 vCPU of limits on 92 vCPU)", () => {
    const problems = checkCapacity(capacity, [
      {
        name: "x",
        replicas: 48,
        resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
      },
    ]);
    expect(problems.map((p) => p.message).join()).to.match(
      /limits total 96.0 CPU, over 1× the cluster's 92 CPU/,
    );
  });

  it("accepts demand that fits", () => {
    const fits = [
      {
        name: "x",
        replicas: 2,
        resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
      },
    ];
    expect(checkCapacity(capacity, fits)).to.deep.equal([]);
  });
});

describe("Namespace", () => {
  beforeEach(() => installMocks());
  const budget = { requests: { cpu: "2", memory: "4Gi" }, limits: { cpu: "4", memory: "8Gi" } };

  it("enforces the restricted Pod Security Standard, a quota, a LimitRange and default deny with DNS egress", async () => {
    new Namespace("apps", { budget });
    const res = await settle();
    const labels = get(res, "kubernetes:core/v1:Namespace", "apps").inputs.metadata.labels;
    expect(labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
    expect(get(res, "ResourceQuota", "apps-quota").inputs.spec.hard).to.deep.include({
      "limits.cpu": "4",
      "requests.memory": "4Gi",
    });
    expect(get(res, "LimitRange", "apps-limits").inputs.spec.limits[0].max).to.deep.equal({
      cpu: "4",
      memory: "8Gi",
    });
    const deny = get(res, "NetworkPolicy", "apps-default-deny").inputs.spec;
    expect(deny).to.deep.equal({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const dns = get(res, "NetworkPolicy", "apps-allow-dns").inputs.spec;
    expect(dns.policyTypes).to.deep.equal(["Egress"]);
    expect(dns.egress[0].to[0].namespaceSelector.matchLabels).to.deep.equal({
      "kubernetes.io/metadata.name": "kube-system",
    });
    expect(dns.egress[0].ports).to.deep.equal([
      { port: 53, protocol: "UDP" },
      { port: 53, protocol: "TCP" },
    ]);
  });

  it("allows a weaker level only with a documented reason, recorded as an exemption", async () => {
    expect(
      validateNamespaceArgs("turn", { budget, podSecurity: { level: "privileged", reason: "" } })[0].field,
    ).to.equal("podSecurity.reason");
    new Namespace("turn", {
      budget,
      podSecurity: { level: "privileged", reason: "coturn needs host networking" },
    });
    const ns = ofType(await settle(), "kubernetes:core/v1:Namespace")[0].inputs.metadata;
    expect(ns.labels["pod-security.kubernetes.io/enforce"]).to.equal("privileged");
    expect(ns.annotations["exempt.keel.dev/namespace-pod-security"]).to.equal("coturn needs host networking");
  });

  it("keeps LimitRange defaults within a small budget's max (the API server refuses default > max)", () => {
    const clamped = containerDefaultsWithin(
      { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
      { cpu: "250m", memory: "320Mi" },
    );
    expect(clamped).to.deep.equal({
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "250m", memory: "320Mi" },
    });
  });

  it("labels a lawful-intercept namespace with the namespace it intercepts", async () => {
    new Namespace("matrix-li", { budget, lawfulInterceptOf: "matrix" });
    const labels = ofType(await settle(), "kubernetes:core/v1:Namespace")[0].inputs.metadata.labels;
    expect(labels).to.deep.include({ "keel.dev/lawful-intercept": "true", "keel.dev/intercepts": "matrix" });
  });
});

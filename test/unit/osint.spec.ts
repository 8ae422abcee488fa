import { SiteArgs, checkCapacity, parseMemory } from "@keel/core";
import {
  Osint,
  OsintArgs,
  elasticsearchHeapMb,
  planOsint,
  renderNeo4jConf,
  renderRabbitmqConf,
  validateOsintArgs,
} from "@keel/osint";
import { expect } from "chai";
import { planConfig, testSite, testTls } from "./fixtures";
import { Recorded, get, installMocks, ofType, podSpecs, settle } from "./harness";

/** The test site with five backups kept. */
const site = (overrides: Partial<SiteArgs> = {}) =>
  testSite({ backup: { schedule: "17 3 * * *", retain: 5 }, ...overrides });

async function deployOsint(args: OsintArgs = {}, siteArgs: Partial<SiteArgs> = {}): Promise<Recorded[]> {
  await installMocks();
  new Osint("osint", { plan: planOsint(site(siteArgs), args), tls: testTls });
  return settle();
}

const container = (res: Recorded[], kind: string, name: string) =>
  get(res, kind, name).inputs.spec.template.spec.containers[0];
const envOf = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("the OSINT platform", () => {
  let res: Recorded[];
  before(async () => {
    res = await deployOsint();
  });

  it("sizes the Elasticsearch heap at half the memory limit with Xms = Xmx and no mmap (no sysctl, no privileged init)", () => {
    const es = get(res, "StatefulSet", "osint-elasticsearch").inputs.spec.template.spec;
    const c = es.containers[0];
    const env = envOf(c);
    const limit = parseMemory(c.resources.limits.memory);
    const heap = elasticsearchHeapMb(limit);
    expect(heap).to.equal(Math.floor(limit / 1024 ** 2 / 2));
    expect(env.ES_JAVA_OPTS).to.contain(`-Xms${heap}m -Xmx${heap}m`);
    expect(env["node.store.allow_mmap"]).to.equal("false");
    expect(env["discovery.type"]).to.equal("single-node");
    expect(es.initContainers).to.equal(undefined);
    expect(c.securityContext.privileged).to.equal(false);
    expect(es.terminationGracePeriodSeconds).to.equal(180);
    expect(env.ELASTIC_PASSWORD).to.have.nested.property("secretKeyRef.key", "elastic-password");
  });

  it("runs Kibana on exactly the Elasticsearch version, as kibana_system with a generated password", () => {
    const kibana = container(res, "Deployment", "osint-kibana");
    const es = container(res, "StatefulSet", "osint-elasticsearch");
    expect(kibana.image.split(":").pop()).to.equal(es.image.split(":").pop());
    const env = envOf(kibana);
    expect(env.ELASTICSEARCH_USERNAME).to.equal("kibana_system");
    expect(env.ELASTICSEARCH_PASSWORD).to.have.nested.property("secretKeyRef.key", "kibana-system-password");
    expect(kibana.readinessProbe.httpGet.path).to.equal("/api/status");
    const job = get(res, "Job", "osint-elasticsearch-setup").inputs.spec;
    expect(job.template.spec.containers[0].command.join(" ")).to.contain(
      "_security/user/kibana_system/_password",
    );
    expect(job.ttlSecondsAfterFinished).to.be.greaterThan(0);
  });

  it("gives RabbitMQ OpenCTI's message size and consumer timeout and detects failure within 30 s", () => {
    const conf = get(res, "ConfigMap", "osint-rabbitmq-config").inputs.data["10-keel.conf"];
    expect(conf).to.contain("max_message_size = 536870912");
    expect(conf).to.contain("consumer_timeout = 86400000");
    expect(conf).not.to.match(/default_pass|password/i);
    const c = container(res, "StatefulSet", "osint-rabbitmq");
    const l = c.livenessProbe;
    expect(l.exec.command).to.deep.equal(["rabbitmq-diagnostics", "-q", "ping"]);
    expect(l.initialDelaySeconds + l.periodSeconds * l.failureThreshold).to.be.at.most(30);
    expect(envOf(c).RABBITMQ_DEFAULT_PASS).to.have.nested.property("secretKeyRef.key", "password");
    expect(renderRabbitmqConf(parseMemory("1Gi"))).to.equal(renderRabbitmqConf(parseMemory("1Gi")));
  });

  it("sets Neo4j's heap (initial = max) and page cache explicitly and loads plugins offline", () => {
    const conf = get(res, "ConfigMap", "osint-neo4j-config").inputs.data["neo4j.conf"];
    const heapMax = /server\.memory\.heap\.max_size=(\d+)m/.exec(conf)![1];
    expect(conf).to.contain(`server.memory.heap.initial_size=${heapMax}m`);
    expect(conf).to.match(/server\.memory\.pagecache\.size=\d+m/);
    expect(conf).to.contain("server.directories.plugins=/var/lib/neo4j/labs");
    expect(renderNeo4jConf(parseMemory("2Gi"))).to.contain("heap.max_size=819m");
    const c = container(res, "StatefulSet", "osint-neo4j");
    expect(Object.keys(envOf(c))).not.to.include("NEO4J_PLUGINS");
    expect(c.livenessProbe.tcpSocket.port).to.equal(7687);
    expect(envOf(c).NEO4J_PASSWORD).to.have.nested.property("secretKeyRef.key", "password");
  });

  it("runs the object store on RustFS by default behind one Service, with generated keys", () => {
    const c = container(res, "StatefulSet", "osint-s3");
    expect(c.image).to.match(/rustfs\/rustfs:1\.0\.0-alpha\.\d+$/);
    expect(envOf(c).RUSTFS_ACCESS_KEY).to.have.nested.property("secretKeyRef.key", "access-key");
    expect(envOf(c).RUSTFS_SECRET_KEY).to.have.nested.property("secretKeyRef.key", "secret-key");
    expect(get(res, "Service", "osint-s3-svc").inputs.metadata.name).to.equal("s3");
    expect(JSON.stringify(res.map((r) => r.inputs))).not.to.contain("minio");
  });

  it("switches the object store to another backend with one setting", async () => {
    const other = await deployOsint({ app: { objectStore: "versitygw" } });
    const c = container(other, "StatefulSet", "osint-s3");
    expect(c.image).to.match(/versity\/versitygw:v\d/);
    expect(envOf(c).ROOT_SECRET_KEY).to.have.nested.property("secretKeyRef.key", "secret-key");
    expect(envOf(container(other, "Deployment", "osint-collector")).S3_ENDPOINT).to.match(/:7070$/);
    expect(() =>
      planConfig({ domain: "example.org", platforms: ["osint"], osint: { objectStore: "minio" } }),
    ).to.throw(/keel:osint\.objectStore: must be one of rustfs, versitygw/);
  });

  it("autoscales the collector and enricher with PDBs (1–3 small, 2–10 from medium)", async () => {
    for (const worker of ["collector", "enricher"]) {
      expect(get(res, "HorizontalPodAutoscaler", `osint-${worker}-hpa`).inputs.spec).to.deep.include({
        minReplicas: 1,
        maxReplicas: 3,
      });
      expect(get(res, "PodDisruptionBudget", `osint-${worker}-pdb`)).to.exist;
    }
    const large = await deployOsint({}, { sizing: "large" });
    expect(get(large, "HorizontalPodAutoscaler", "osint-collector-hpa").inputs.spec).to.deep.include({
      minReplicas: 2,
      maxReplicas: 10,
    });
  });

  it("generates every password and binds every volume to a declared storage class", () => {
    const passwords = ofType(res, "RandomPassword").map((p) => p.name);
    expect(passwords).to.include.members([
      "osint-postgres-credentials-password",
      "osint-elasticsearch-credentials-elastic-password",
      "osint-rabbitmq-credentials-password",
      "osint-neo4j-credentials-password",
      "osint-s3-credentials-secret-key",
      "osint-opencti-token",
    ]);
    const claims = [
      ...ofType(res, "PersistentVolumeClaim").map((p) => p.inputs.spec.storageClassName),
      ...ofType(res, "StatefulSet").flatMap((s) =>
        s.inputs.spec.volumeClaimTemplates.map((t: any) => t.spec.storageClassName),
      ),
    ];
    expect(claims.length).to.equal(9);
    for (const c of claims) expect(["fast", "bulk"]).to.include(c);
    for (const { owner, spec } of podSpecs(res)) {
      for (const e of spec.containers[0].env ?? [])
        if (e.value) expect(e.value, `${owner} ${e.name}`).not.to.contain("generated-");
    }
  });

  it("backs up PostgreSQL, Elasticsearch (snapshots) and Neo4j with retention", () => {
    const backups = ofType(res, "CronJob").map((j) => j.inputs.metadata.annotations);
    expect(backups.map((a) => a["keel.dev/backup-of"]).sort()).to.deep.equal([
      "osint/elasticsearch",
      "osint/neo4j",
      "osint/postgres",
    ]);
    for (const a of backups) expect(a["keel.dev/backup-retention"]).to.equal("5");
    const es = get(res, "StatefulSet", "osint-elasticsearch").inputs.spec;
    expect(es.volumeClaimTemplates.map((t: any) => [t.metadata.name, t.spec.storageClassName])).to.deep.equal(
      [
        ["data", "fast"],
        ["backups", "bulk"],
      ],
    );
  });

  it("checks every pool against PostgreSQL's and Neo4j's budgets before creating anything", () => {
    const large = site({ sizing: "large" });
    const pg = validateOsintArgs(large, { app: { dbPoolSize: 10 } });
    expect(pg.map((p) => p.field)).to.deep.equal(["postgres.consumers"]);
    expect(pg[0].message).to.match(/collector 10×10/);
    const neo = validateOsintArgs(large, { app: { neo4jPoolSize: 50 } });
    expect(neo.map((p) => p.field)).to.deep.equal(["neo4j.consumers"]);
    expect(() => planOsint(large, { app: { dbPoolSize: 10 } })).to.throw(/max_connections/);
  });

  it("declares its demand at full scale for the capacity check", () => {
    const demand = [...planOsint(site()).demand];
    expect(demand.find((d) => d.name === "osint/collector")!.replicas).to.equal(3);
    expect(demand.find((d) => d.name === "osint/elasticsearch")).to.exist;
    expect(
      checkCapacity(
        { nodes: [{ count: 1, cpu: 2, memoryGi: 8 }], headroomPercent: 20, limitOvercommit: 2 },
        demand,
      ),
    ).to.not.be.empty;
  });

  it("takes the OpenCTI token from secret config when given, generating none", async () => {
    const withToken = await deployOsint({ openctiToken: "token-from-secret-config" });
    expect(ofType(withToken, "RandomPassword").map((p) => p.name)).not.to.include("osint-opencti-token");
    const env = envOf(container(withToken, "Deployment", "osint-opencti-connector"));
    expect(env.OPENCTI_TOKEN).to.have.nested.property("secretKeyRef.key", "token");
    const elsewhere = JSON.stringify(
      withToken.filter((r) => !r.type.endsWith(":Secret")).map((r) => r.inputs),
    );
    expect(elsewhere).not.to.contain("token-from-secret-config");
  });

  it("plans its namespace and no node port before anything is created", () => {
    const plan = planOsint(site());
    expect(plan.namespaces).to.deep.equal(["osint"]);
    expect(plan.nodePorts).to.deep.equal([]);
    expect(planOsint(site(), { namespace: "june-dark" }).namespaces).to.deep.equal(["june-dark"]);
  });

  it("publishes the ops UI and Kibana through TLS ingresses", () => {
    const hosts = ofType(res, "Ingress").map((i) => i.inputs.spec.rules[0].host);
    expect(hosts.sort()).to.deep.equal(["kibana.example.org", "osint.example.org"]);
  });
});

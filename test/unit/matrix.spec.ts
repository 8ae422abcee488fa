import { SiteArgs } from "@keel/core";
import {
  Matrix,
  MatrixArgs,
  MatrixCalls,
  planMatrix,
  replicationSetupScript,
  sequenceSyncScript,
  validateMatrixArgs,
} from "@keel/matrix";
import { expect } from "chai";
import { parse } from "yaml";
import { testSite, testTls } from "./fixtures";
import { Recorded, get, installMocks, ofType, settle } from "./harness";

const site = (overrides: Partial<SiteArgs> = {}) => testSite({ backup: { retain: 3 }, ...overrides });

/** Planned with both peers (monitoring and group calls), as the dev and prod stacks are. */
function matrixArgs(overrides: Partial<MatrixArgs> = {}): MatrixArgs {
  return { peers: { monitoring: true, calls: true }, ...overrides };
}

const calls: MatrixCalls = {
  livekitUrl: "wss://livekit.example.org",
  livekitNamespace: "webrtc",
  apiKey: "livekit-api-key-0123",
  apiSecret: "livekit-api-secret-0123456789",
  turnUris: ["turn:turn.example.org:3478?transport=udp"],
  turnSharedSecret: "turn-shared-secret-0123456789",
};

function container(res: Recorded[], kind: string, name: string) {
  return get(res, kind, name).inputs.spec.template.spec.containers[0];
}

describe("the Matrix platform", () => {
  let res: Recorded[];
  before(async () => {
    await installMocks();
    new Matrix("matrix", {
      plan: planMatrix(site(), matrixArgs()),
      tls: testTls,
      calls,
      monitoringNamespace: "monitoring",
    });
    res = await settle();
  });

  it("creates Synapse's database UTF8 with C collation and ctype, and publishes it for the LI replica", () => {
    const pg = container(res, "StatefulSet", "matrix-postgres");
    const env = Object.fromEntries(pg.env.map((e: any) => [e.name, e.value]));
    expect(env.POSTGRES_INITDB_ARGS).to.equal("--encoding=UTF8 --lc-collate=C --lc-ctype=C");
    expect(pg.args.join(" ")).to.contain("wal_level=logical");
  });

  it("puts PgBouncer in session mode in front of it, with its pool declared against the database", () => {
    const ini = ofType(res, "ConfigMap").find((c) => c.inputs.data?.["pgbouncer.ini"])!.inputs.data[
      "pgbouncer.ini"
    ];
    expect(ini).to.match(/^pool_mode = session$/m);
    const deploy = get(res, "Deployment", "matrix-pgbouncer").inputs;
    expect(deploy.metadata.annotations["keel.dev/db-pools"]).to.match(/^matrix\/synapse-postgres=\d+$/);
  });

  it("runs main and every worker group as StatefulSets with headless Services that publish unready pods", () => {
    const sts = ofType(res, "StatefulSet").map((s) => s.inputs.metadata.name);
    for (const app of [
      "synapse-main",
      "synapse-synchrotron",
      "synapse-event-persister",
      "synapse-media-repository",
    ]) {
      expect(sts).to.include(app);
    }
    const svc = ofType(res, "Service").find((s) => s.inputs.metadata.name === "synapse-synchrotron")!.inputs
      .spec;
    expect(svc.clusterIP).to.equal("None");
    expect(svc.publishNotReadyAddresses).to.equal(true);
    expect(svc.ports.map((p: any) => p.name)).to.include("http");
  });

  it("never exposes the replication listener beyond the Synapse processes", () => {
    const policy = get(res, "NetworkPolicy", "matrix-synapse-main-netpol").inputs.spec;
    const replication = policy.ingress.filter((r: any) => r.ports?.some((p: any) => p.port === 9093));
    const peers = replication.flatMap((r: any) =>
      r.from.map((f: any) => f.podSelector?.matchLabels?.["app.kubernetes.io/name"]),
    );
    expect(peers.length).to.be.greaterThan(0);
    expect(peers.every((p: string) => p.startsWith("synapse-"))).to.equal(true);
    expect(
      ofType(res, "Ingress").map((i) => i.inputs.spec.rules[0].http.paths[0].backend.service.port.number),
    ).not.to.include(9093);
  });

  it("routes through HAProxy with a generated config (no placeholder) and probes its monitor URI", () => {
    const cfg = ofType(res, "ConfigMap").find((c) => c.inputs.data?.["haproxy.cfg"])!.inputs.data[
      "haproxy.cfg"
    ];
    expect(cfg).to.contain("server-template");
    expect(cfg).to.contain("synapse-synchrotron");
    const c = container(res, "Deployment", "matrix-haproxy");
    expect(c.readinessProbe.httpGet.path).to.equal("/haproxy-health");
  });

  it("loads homeserver.yaml from a ConfigMap and every secret from Secrets only", () => {
    const hs = ofType(res, "ConfigMap").find((c) => c.inputs.data?.["homeserver.yaml"])!.inputs.data[
      "homeserver.yaml"
    ];
    const doc = parse(hs);
    expect(doc.server_name).to.equal("example.org");
    expect(doc.modules.map((m: any) => m.module)).to.have.length(1);
    expect(hs).not.to.match(/macaroon_secret_key|registration_shared_secret|turn_shared_secret/);
    const secret = ofType(res, "Secret").find((s) => s.inputs.metadata.name === "synapse-secrets");
    expect(secret, "secrets.yaml Secret").to.exist;
  });

  it("gives group calls a token service on the WebRTC platform's LiveKit", () => {
    const c = container(res, "Deployment", "matrix-lk-jwt");
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
    expect(env.LIVEKIT_URL.value).to.equal("wss://livekit.example.org");
    expect(env.LIVEKIT_SECRET.valueFrom.secretKeyRef.name).to.equal("livekit-keys");
  });

  it("gives ClamAV at least 3 GiB and a startup budget for loading signatures", () => {
    const c = container(res, "Deployment", "matrix-av-clamav");
    expect(c.resources.limits.memory).to.match(/^[3-9]Gi$/);
    const s = c.startupProbe;
    expect((s.initialDelaySeconds ?? 0) + s.periodSeconds * s.failureThreshold).to.be.at.least(300);
  });

  it("isolates the LI namespace: labelled lawful-intercept, no internet egress from its pods", () => {
    const ns = get(res, "kubernetes:core/v1:Namespace", "matrix-li-ns").inputs.metadata;
    expect(ns.labels).to.deep.include({
      "keel.dev/lawful-intercept": "true",
      "keel.dev/intercepts": "matrix",
    });
    const liPolicies = ofType(res, "NetworkPolicy").filter(
      (p) => p.inputs.metadata.namespace === "matrix-li" || p.name.startsWith("matrix-li"),
    );
    const cidrs = liPolicies
      .flatMap((p) =>
        (p.inputs.spec.egress ?? []).flatMap((e: any) => (e.to ?? []).map((t: any) => t.ipBlock?.cidr)),
      )
      .filter(Boolean);
    expect(cidrs).to.deep.equal([]);
  });

  it("syncs LI media and sequences on a schedule that never overlaps and has a deadline", () => {
    for (const name of ["matrix-li-media-sync", "matrix-li-sequence-sync"]) {
      const spec = get(res, "CronJob", name).inputs.spec;
      expect(spec.concurrencyPolicy, name).to.equal("Forbid");
      expect(spec.startingDeadlineSeconds, name).to.be.greaterThan(0);
      expect(spec.jobTemplate.spec.activeDeadlineSeconds, name).to.be.greaterThan(0);
    }
  });

  it("copies the schema before subscribing (DDL is not replicated) and sequences separately", () => {
    const setup = replicationSetupScript();
    expect(setup.indexOf("pg_dump --schema-only")).to.be.lessThan(setup.indexOf("CREATE SUBSCRIPTION"));
    expect(setup).to.contain("REFRESH PUBLICATION");
    expect(sequenceSyncScript()).to.contain("setval");
  });

  it("refuses a pool budget that does not fit, naming the field and the arithmetic", () => {
    const problems = validateMatrixArgs(
      site(),
      matrixArgs({ app: { maxConnections: 60, reservedConnections: 10 } }),
    );
    expect(problems.map((p) => p.field)).to.include("app.maxConnections");
    expect(problems.find((p) => p.field === "app.maxConnections")!.problem).to.contain("PgBouncer");
  });

  it("refuses internet signature updates when air-gapped", () => {
    const problems = validateMatrixArgs(site({ airGapped: true }), matrixArgs());
    expect(problems.map((p) => p.field)).to.include("app.signatureMirror");
  });
});

describe("the Matrix platform's plan", () => {
  it("plans its namespaces and the metrics ports Prometheus scrapes, from the ports it opens", () => {
    const plan = planMatrix(site(), matrixArgs());
    expect(plan.namespaces).to.deep.equal(["matrix", "matrix-li"]);
    expect(plan.scrapeTargets).to.deep.equal([{ namespace: "matrix", ports: [9000, 8405, 9187, 9121] }]);
    const alone = planMatrix(site(), { namespace: "chat", app: { lawfulIntercept: false } });
    expect(alone.namespaces).to.deep.equal(["chat"]);
    expect(alone.scrapeTargets).to.deep.equal([]);
  });

  it("counts the pods its peers decide on: exporters when monitored, lk-jwt-service with calls", () => {
    const names = (args: MatrixArgs) => planMatrix(site(), args).demand.map((d) => d.name);
    expect(names(matrixArgs())).to.include.members([
      "matrix/lkJwtService",
      "matrix/synapse-postgres-exporter",
      "matrix/synapse-redis-exporter",
      "matrix-li/synapse-li",
    ]);
    expect(names({})).not.to.include.members(["matrix/lkJwtService"]);
    expect(names({}).filter((n) => n.endsWith("-exporter"))).to.deep.equal([]);
  });

  it("resolves sizing-dependent settings once: worker groups, pools and replicas follow the profile", () => {
    const small = planMatrix(site(), matrixArgs());
    const large = planMatrix(site({ sizing: "large" }), matrixArgs({ app: { maxConnections: 700 } }));
    expect(small.replicas).to.deep.equal({ pgbouncer: 2, haproxy: 2, web: 1, lkJwt: 1 });
    expect(large.replicas).to.deep.equal({ pgbouncer: 2, haproxy: 2, web: 2, lkJwt: 2 });
    expect(large.pgbouncer.defaultPoolSize).to.be.greaterThan(small.pgbouncer.defaultPoolSize);
    expect(large.synapseApps).to.deep.equal(["synapse-main", ...large.groups.map((g) => g.statefulSet)]);
    expect(small.antivirus!.module.config.redis_host).to.equal("av-redis");
    expect(small.antivirus!.settings.scanClients).to.deep.equal(small.synapseApps.map((app) => ({ app })));
  });

  it("throws naming the field before anything is built", () => {
    expect(() => planMatrix(site(), { app: { maxConnections: 10 } })).to.throw(/^app\.maxConnections: /);
  });

  it("is built with exactly the peers it was planned with", async () => {
    await installMocks();
    const plan = planMatrix(site(), matrixArgs());
    expect(() => new Matrix("m1", { plan, tls: testTls, monitoringNamespace: "monitoring" })).to.throw(
      /planned with group calls/,
    );
    expect(() => new Matrix("m2", { plan, tls: testTls, calls })).to.throw(/planned with monitoring/);
    const without = planMatrix(site(), {});
    expect(() => new Matrix("m3", { plan: without, tls: testTls, calls })).to.throw(
      /planned without group calls/,
    );
    await settle();
  });
});

import { ValidationError } from "@keel/core";
import {
  HAPROXY_MONITOR_URI,
  MatrixWorkerCounts,
  defaultWorkerCounts,
  monolithWorkerCounts,
  renderHaproxyConfig,
  resolveRoutes,
  routeRequest,
  synapseRouteRules,
  validateHaproxyInput,
  workerGroups,
} from "@keel/matrix";
import { expect } from "chai";

const small = defaultWorkerCounts("small");
const medium = defaultWorkerCounts("medium");

function without(counts: MatrixWorkerCounts, key: keyof MatrixWorkerCounts): MatrixWorkerCounts {
  return { ...counts, [key]: 0 };
}

const noWriters = { ...small, streamWriters: { ...monolithWorkerCounts.streamWriters } };

describe("matrix config: request routing", () => {
  const cases: [string, string, string][] = [
    ["GET", "/_matrix/client/v3/sync", "synchrotron"],
    ["GET", "/_matrix/client/v3/sync?since=s72594_4483_1934&timeout=30000", "synchrotron"],
    ["GET", "/_matrix/client/r0/events", "synchrotron"],
    ["GET", "/_matrix/client/v3/initialSync", "synchrotron"],
    ["GET", "/_matrix/client/v3/rooms/!a:x/initialSync", "synchrotron"],
    ["PUT", "/_matrix/client/v3/rooms/!a:x/send/m.room.message/txn1", "event-creator"],
    ["PUT", "/_matrix/client/v3/rooms/!a:x/state/m.room.name/", "event-creator"],
    ["POST", "/_matrix/client/v3/rooms/!a:x/invite", "event-creator"],
    ["POST", "/_matrix/client/v3/join/#room:x", "event-creator"],
    ["PUT", "/_matrix/client/v3/profile/@u:x/displayname", "event-creator"],
    ["PUT", "/_matrix/federation/v1/send/1234", "federation-inbound"],
    ["GET", "/_matrix/federation/v1/event/$abc", "federation-reader"],
    ["GET", "/_matrix/federation/v1/state_ids/!a:x", "federation-reader"],
    ["PUT", "/_matrix/federation/v2/send_join/!a:x/$e", "federation-reader"],
    ["POST", "/_matrix/key/v2/query", "federation-reader"],
    ["GET", "/_matrix/media/v3/download/x/abc", "media-repository"],
    ["POST", "/_matrix/media/v3/upload", "media-repository"],
    ["GET", "/_matrix/client/v1/media/download/x/abc", "media-repository"],
    ["GET", "/_matrix/federation/v1/media/download/abc", "media-repository"],
    ["DELETE", "/_synapse/admin/v1/media/x/abc", "media-repository"],
    ["GET", "/_synapse/admin/v1/users/@u:x/media", "media-repository"],
    ["POST", "/_matrix/client/v3/login", "client-reader"],
    ["GET", "/_matrix/client/versions", "client-reader"],
    ["POST", "/_matrix/client/v3/keys/query", "client-reader"],
    ["GET", "/_matrix/client/v3/rooms/!a:x/messages", "client-reader"],
    ["GET", "/_matrix/client/v3/rooms/!a:x/members", "client-reader"],
    ["GET", "/_synapse/admin/v1/rooms/!a:x", "client-reader"],
    ["GET", "/_matrix/client/unstable/org.matrix.msc4140/delayed_events", "client-reader"],
    ["POST", "/_matrix/client/unstable/org.matrix.msc4140/delayed_events/abc", "main"],
    ["GET", "/_synapse/admin/v1/users", "main"],
    ["GET", "/_synapse/admin/v2/users/@u:x", "main"],
    ["GET", "/_matrix/client/v3/login/sso/redirect", "main"],
    ["GET", "/_synapse/client/oidc/callback", "main"],
    ["GET", "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync", "main"],
    ["PUT", "/_matrix/client/v3/sendToDevice/m.room.encrypted/txn2", "stream-writer"],
    ["PUT", "/_matrix/client/v3/rooms/!a:x/typing/@u:x", "stream-writer"],
    ["POST", "/_matrix/client/v3/rooms/!a:x/receipt/m.read/$e", "stream-writer"],
    ["PUT", "/_matrix/client/v3/user/@u:x/account_data/m.direct", "stream-writer"],
    ["PUT", "/_matrix/client/v3/user/@u:x/rooms/!a:x/tags/u.work", "stream-writer"],
    ["PUT", "/_matrix/client/v3/presence/@u:x/status", "stream-writer"],
    ["PUT", "/_matrix/client/v3/pushrules/global/override/r", "stream-writer"],
    ["POST", "/_matrix/client/v3/keys/upload", "stream-writer"],
    ["POST", "/_matrix/client/v3/keys/device_signing/upload", "stream-writer"],
    ["POST", "/_matrix/client/v3/delete_devices", "stream-writer"],
    ["GET", "/_matrix/client/v3/devices", "stream-writer"],
  ];

  for (const [method, path, backend] of cases) {
    it(`${method} ${path} → ${backend}`, () => {
      expect(routeRequest(method, path, small)).to.equal(backend);
    });
  }

  it("sends a type's paths to main when its count is 0", () => {
    const expectations: [keyof MatrixWorkerCounts, string, string][] = [
      ["synchrotron", "GET", "/_matrix/client/v3/sync"],
      ["eventCreator", "PUT", "/_matrix/client/v3/rooms/!a:x/send/m.room.message/t"],
      ["federationInbound", "PUT", "/_matrix/federation/v1/send/1"],
      ["federationReader", "GET", "/_matrix/federation/v1/event/$e"],
      ["mediaRepository", "GET", "/_matrix/media/v3/download/x/y"],
      ["clientReader", "POST", "/_matrix/client/v3/login"],
    ];
    for (const [key, method, path] of expectations) {
      expect(routeRequest(method, path, small), key).to.not.equal("main");
      expect(routeRequest(method, path, without(small, key)), key).to.equal("main");
    }
    for (const [method, path] of [
      ["GET", "/_matrix/client/v3/sync"],
      ["POST", "/_matrix/client/v3/keys/upload"],
      ["GET", "/_matrix/media/v3/download/x/y"],
    ]) {
      expect(routeRequest(method, path, monolithWorkerCounts)).to.equal("main");
    }
  });

  it("without stream writers: writes go to main, reads the docs allow on any worker go to client readers", () => {
    expect(routeRequest("PUT", "/_matrix/client/v3/sendToDevice/m.x/t", noWriters)).to.equal("main");
    expect(routeRequest("PUT", "/_matrix/client/v3/rooms/!a:x/typing/@u:x", noWriters)).to.equal("main");
    expect(routeRequest("PUT", "/_matrix/client/v3/pushrules/global/override/r", noWriters)).to.equal("main");
    expect(routeRequest("GET", "/_matrix/client/v3/pushrules/", noWriters)).to.equal("client-reader");
    expect(routeRequest("HEAD", "/_matrix/client/v3/presence/@u:x/status", noWriters)).to.equal(
      "client-reader",
    );
    expect(routeRequest("PUT", "/_matrix/client/v3/user/@u:x/account_data/m.direct", noWriters)).to.equal(
      "main",
    );
    expect(routeRequest("GET", "/_matrix/client/v3/user/@u:x/account_data/m.direct", noWriters)).to.equal(
      "client-reader",
    );
    expect(routeRequest("POST", "/_matrix/client/v3/keys/upload", noWriters)).to.equal("client-reader");
    expect(routeRequest("POST", "/_matrix/client/v3/rooms/!a:x/receipt/m.read/$e", noWriters)).to.equal(
      "client-reader",
    );
  });

  it("routes each stream to its own writer when not consolidated", () => {
    expect(routeRequest("PUT", "/_matrix/client/v3/sendToDevice/m.x/t", medium)).to.equal("to-device-writer");
    expect(routeRequest("PUT", "/_matrix/client/v3/rooms/!a:x/typing/@u:x", medium)).to.equal(
      "typing-writer",
    );
    expect(routeRequest("POST", "/_matrix/client/v3/keys/upload", medium)).to.equal("device-lists-writer");
    expect(routeRequest("GET", "/_matrix/client/v3/pushrules/", medium)).to.equal("push-rules-writer");
  });

  it("keeps the docs' patterns valid, anchored and safe to single-quote in haproxy.cfg", () => {
    const ids = synapseRouteRules.map((r) => r.id);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const rule of synapseRouteRules) {
      expect(rule.handlers.length, rule.id).to.be.greaterThan(0);
      for (const p of rule.patterns) {
        expect(() => new RegExp(p)).to.not.throw();
        expect(p, rule.id).to.match(/^\^\//);
        expect(p, rule.id).to.not.match(/['\s#\\]/);
      }
    }
  });
});

describe("matrix config: haproxy.cfg", () => {
  const cfg = renderHaproxyConfig({ counts: small, namespace: "matrix" });
  const lines = cfg.split("\n");

  it("is deterministic", () => {
    expect(renderHaproxyConfig({ namespace: "matrix", counts: { ...small } })).to.equal(cfg);
    expect(renderHaproxyConfig({ counts: small, namespace: "chat" })).to.not.equal(cfg);
  });

  it("has one server-template over a headless Service's SRV name per backend that serves routes", () => {
    const templates = lines.filter((l) => l.trim().startsWith("server-template"));
    const http = workerGroups(small).filter((g) => g.http);
    expect(templates).to.have.length(http.length + 1);
    expect(templates[0]).to.equal(
      "  server-template main 1 _http._tcp.synapse-main.matrix.svc.cluster.local resolvers kubedns init-addr none check port 8080 inter 5s fall 3 rise 2",
    );
    for (const g of http) {
      expect(cfg).to.contain(`backend ${g.statefulSet}\n`);
      expect(cfg).to.contain(
        `server-template ${g.name} 1 _http._tcp.${g.statefulSet}.matrix.svc.cluster.local `,
      );
    }
    for (const absent of [
      "synapse-event-persister",
      "synapse-federation-sender",
      "synapse-pusher",
      "synapse-background",
    ]) {
      expect(cfg).to.not.contain(`backend ${absent}`);
    }
    const scaled = renderHaproxyConfig({
      counts: medium,
      namespace: "matrix",
      clusterDomain: "k8s.internal",
      maxReplicas: { synchrotron: 8 },
    });
    expect(scaled).to.contain(
      "server-template synchrotron 8 _http._tcp.synapse-synchrotron.matrix.svc.k8s.internal ",
    );
    expect(scaled).to.contain("server-template typing-writer 1 ");
  });

  it("evaluates the same ordered rules routeRequest uses, each resolved to the same backend", () => {
    const setVar = lines.filter((l) => l.includes("set-var(txn.backend)"));
    const routes = resolveRoutes(small);
    expect(setVar).to.have.length(routes.length);
    routes.forEach(({ rule, backend }, i) => {
      const quoted = rule.patterns.map((p) => `'${p}'`).join(" ");
      expect(setVar[i]).to.contain(`str(${backend}) if !{ var(txn.backend) -m found }`);
      expect(setVar[i]).to.contain(`{ path_reg ${quoted} }`);
      expect(setVar[i].includes(" METH_GET "), rule.id).to.equal(rule.methods !== undefined);
    });
  });

  it("falls back to main whenever a worker backend has no server, before routing to it", () => {
    const fallback = lines.findIndex((l) => l.includes("nbsrv(synapse-synchrotron) eq 0"));
    const route = lines.findIndex(
      (l) => l === "  use_backend synapse-synchrotron if { var(txn.backend) -m str synchrotron }",
    );
    expect(lines[fallback]).to.equal(
      "  use_backend synapse-main if { var(txn.backend) -m str synchrotron } { nbsrv(synapse-synchrotron) eq 0 }",
    );
    expect(fallback).to.be.greaterThan(-1);
    expect(route).to.be.greaterThan(fallback);
    expect(cfg).to.contain("  default_backend synapse-main\n");
  });

  it("balances sync by access token, event creators and pagination by room, inbound federation by source", () => {
    const backend = (name: string) => cfg.split(`backend ${name}\n`)[1].split("\nbackend ")[0];
    expect(backend("synapse-synchrotron")).to.contain("balance hdr(X-Access-Token)");
    expect(cfg).to.contain(
      'req.fhdr(Authorization),word(2," ") if { req.fhdr(Authorization) -m beg "Bearer " }',
    );
    expect(cfg).to.contain("url_param(access_token)");
    expect(backend("synapse-event-creator")).to.contain("balance hdr(X-Matrix-Room)");
    expect(backend("synapse-client-reader")).to.contain("balance hdr(X-Matrix-Room)");
    expect(backend("synapse-federation-inbound")).to.contain("balance source");
    expect(cfg).to.match(/timeout server (\d+)s/);
    expect(Number(/timeout server (\d+)s/.exec(cfg)![1])).to.be.at.least(180);
    expect(cfg).to.contain(`monitor-uri ${HAPROXY_MONITOR_URI}`);
    expect(cfg).to.contain("bind :8008");
    expect(cfg).to.contain("bind :8405");
  });

  it("silences the stats frontend's log before use-service, which ends the rule list for /metrics", () => {
    const stats = cfg.split("frontend stats\n")[1].split("\n\n")[0].split("\n");
    const silent = stats.indexOf("  http-request set-log-level silent");
    const exporter = stats.indexOf("  http-request use-service prometheus-exporter if { path /metrics }");
    expect(silent).to.be.greaterThan(-1);
    expect(exporter).to.be.greaterThan(silent);
  });

  it("has no backend but main for a monolith", () => {
    const mono = renderHaproxyConfig({ counts: monolithWorkerCounts, namespace: "matrix" });
    expect(mono.match(/^backend /gm)).to.have.length(1);
    expect(mono).to.not.contain("nbsrv(");
  });

  it("refuses input that would reach the file unchecked", () => {
    const fields = (ns: string, cd?: string) =>
      validateHaproxyInput({ counts: small, namespace: ns, clusterDomain: cd }).map((p) => p.field);
    expect(fields("matrix")).to.deep.equal([]);
    expect(fields("matrix\n  stats admin if TRUE")).to.deep.equal(["namespace"]);
    expect(fields("matrix", "cluster.local resolvers evil")).to.deep.equal(["clusterDomain"]);
    expect(() => renderHaproxyConfig({ counts: { ...small, synchrotron: -1 }, namespace: "m" })).to.throw(
      ValidationError,
      "counts.synchrotron",
    );
  });
});

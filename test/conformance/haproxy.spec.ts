import {
  HAPROXY_MONITOR_URI,
  HAPROXY_PORTS,
  MatrixWorkerCounts,
  haproxyBackendName,
  resolveMatrixSettings,
  routeRequest,
  workerGroups,
} from "@keel/matrix";
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { parseStackConfig } from "../../program/config";
import { stackConfig } from "../unit/fixtures";
import {
  Running,
  ensureProgram,
  fileOf,
  find,
  freePort,
  httpRequest,
  renderStack,
  scratchDir,
  versionOf,
  waitFor,
} from "./harness";
import { backendsOf, localize } from "./haproxy/localize";

/*
 * The Matrix router's haproxy.cfg, as the program renders it for the dev and the prod stack, run by a real
 * HAProxy. Every backend's servers are local HTTP servers that answer with their backend's name; requests
 * must land where routeRequest says for the stack's worker set. Only peer addresses and ports are rewritten
 * (printed in the output); everything else is the rendered file.
 */

/** One request on a connection of its own (HAProxy logs a stream when it ends); `backend` answered it. */
async function request(port: number, method: string, urlPath: string, headers: Record<string, string> = {}) {
  const r = await httpRequest(port, urlPath, { method, headers, agent: false });
  return { ...r, backend: r.headers["x-backend"] as string | undefined };
}

/** A Synapse stand-in: 200 on /health, else its backend name and the balancing headers HAProxy set. */
async function standIn(backend: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    res.setHeader("x-backend", backend);
    if (req.url === "/health") return void res.end("ok");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ token: req.headers["x-access-token"], room: req.headers["x-matrix-room"] }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return server;
}

function closeServer(s: http.Server): Promise<void> {
  return new Promise((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  });
}

interface ServerState {
  backend: string;
  server: string;
  status: string;
  check: string;
}

/** Every server of the synapse backends as HAProxy's stats page (CSV) reports it. */
async function serverStates(statsPort: number): Promise<ServerState[]> {
  const [header, ...rows] = (await request(statsPort, "GET", "/stats;csv")).body.trim().split("\n");
  const cols = header.replace(/^# /, "").split(",");
  return rows
    .map((row) => row.split(","))
    .map((v) => ({
      backend: v[cols.indexOf("pxname")],
      server: v[cols.indexOf("svname")],
      status: v[cols.indexOf("status")],
      // A leading "* " marks a check in progress; the result after it is the last completed one.
      check: v[cols.indexOf("check_status")].replace(/^\* /, ""),
    }))
    .filter((s) => s.backend.startsWith("synapse-") && !["FRONTEND", "BACKEND"].includes(s.server));
}

/** Representative client, federation and media requests: every rule of the routing table and its fallbacks. */
const paths: [string, string][] = [
  ["GET", "/_matrix/client/v3/sync?since=s1&timeout=30000"],
  ["GET", "/_matrix/client/r0/events"],
  ["GET", "/_matrix/client/v3/initialSync"],
  ["GET", "/_matrix/client/v3/rooms/!a:x/initialSync"],
  ["PUT", "/_matrix/client/v3/rooms/!a:x/send/m.room.message/txn1"],
  ["PUT", "/_matrix/client/v3/rooms/!a:x/state/m.room.name/"],
  ["POST", "/_matrix/client/v3/rooms/!a:x/invite"],
  ["POST", "/_matrix/client/v3/join/!b:x"],
  ["PUT", "/_matrix/client/v3/profile/@u:x/displayname"],
  ["PUT", "/_matrix/client/v3/rooms/!a:x/typing/@u:x"],
  ["PUT", "/_matrix/client/v3/sendToDevice/m.room.encrypted/t"],
  ["GET", "/_matrix/client/v3/user/@u:x/account_data/m.direct"],
  ["PUT", "/_matrix/client/v3/user/@u:x/account_data/m.direct"],
  ["PUT", "/_matrix/client/v3/user/@u:x/rooms/!a:x/tags/u.work"],
  ["POST", "/_matrix/client/v3/rooms/!a:x/receipt/m.read/$e"],
  ["POST", "/_matrix/client/v3/rooms/!a:x/read_markers"],
  ["GET", "/_matrix/client/v3/presence/@u:x/status"],
  ["HEAD", "/_matrix/client/v3/presence/@u:x/status"],
  ["PUT", "/_matrix/client/v3/presence/@u:x/status"],
  ["GET", "/_matrix/client/v3/pushrules/"],
  ["PUT", "/_matrix/client/v3/pushrules/global/override/r"],
  ["POST", "/_matrix/client/v3/keys/upload"],
  ["POST", "/_matrix/client/v3/keys/device_signing/upload"],
  ["POST", "/_matrix/client/v3/delete_devices"],
  ["GET", "/_matrix/client/v3/devices"],
  ["PUT", "/_matrix/federation/v1/send/1234"],
  ["GET", "/_matrix/federation/v1/version"],
  ["GET", "/_matrix/federation/v1/event/$e"],
  ["GET", "/_matrix/federation/v1/state_ids/!a:x"],
  ["PUT", "/_matrix/federation/v2/send_join/!a:x/$e"],
  ["GET", "/_matrix/federation/v1/user/devices/@u:x"],
  ["POST", "/_matrix/key/v2/query"],
  ["GET", "/_matrix/media/v3/download/x/y"],
  ["POST", "/_matrix/media/v3/upload"],
  ["GET", "/_matrix/client/v1/media/thumbnail/x/y?width=32"],
  ["GET", "/_matrix/federation/v1/media/download/abc"],
  ["DELETE", "/_synapse/admin/v1/media/x/abc"],
  ["GET", "/_synapse/admin/v1/users/@u:x/media"],
  ["POST", "/_matrix/client/v3/login"],
  ["GET", "/_matrix/client/versions"],
  ["POST", "/_matrix/client/v3/createRoom"],
  ["POST", "/_matrix/client/v3/keys/query"],
  ["GET", "/_matrix/client/v3/rooms/!a:x/messages?dir=b"],
  ["GET", "/_matrix/client/v3/rooms/!a:x/members"],
  ["GET", "/_synapse/admin/v1/rooms/!a:x"],
  ["GET", "/_matrix/client/unstable/org.matrix.msc4140/delayed_events"],
  ["POST", "/_matrix/client/unstable/org.matrix.msc4140/delayed_events/d1"],
  ["GET", "/_synapse/admin/v1/users"],
  ["GET", "/_matrix/client/v3/login/sso/redirect"],
  ["GET", "/_synapse/client/oidc/callback"],
  ["GET", "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"],
];

/** The worker set the program deploys for a stack, resolved the way it resolves it. */
function stackWorkers(stack: "dev" | "prod"): MatrixWorkerCounts {
  const cfg = parseStackConfig(stackConfig(stack));
  return resolveMatrixSettings(cfg.matrix, cfg.sizing).workers;
}

describe("conformance: HAProxy runs the Matrix router's haproxy.cfg", function () {
  let bin = "";
  before(function () {
    bin = ensureProgram("haproxy");
    console.log(`      running: ${versionOf(bin, ["-v"])}`);
  });

  for (const stack of ["dev", "prod"] as const) {
    describe(`${stack} stack`, function () {
      const counts = stackWorkers(stack);
      const standIns = new Map<string, http.Server>();
      let haproxy: Running | undefined;
      let dir = "";
      let cfg = "";
      let httpPort = 0;
      let statsPort = 0;

      before(async function () {
        const res = await renderStack(stack);
        cfg = fileOf(res, "ConfigMap", "matrix-haproxy-config", "haproxy.cfg");
        const container = find(res, "Deployment", "matrix-haproxy").inputs.spec.template.spec.containers[0];
        console.log(`      ${stack}: the image pins ${container.image}`);
        for (const b of backendsOf(cfg)) standIns.set(b, await standIn(b));
        httpPort = await freePort();
        statsPort = await freePort();
        const ports = new Map([...standIns].map(([b, s]) => [b, (s.address() as AddressInfo).port]));
        const servers = new Map([...ports].map(([b, port]) => [b, { port, check: port }]));
        const local = localize(cfg, { http: httpPort, stats: statsPort }, servers);
        console.log(`      ${stack}: rewrites of peer addresses and ports (nothing else):`);
        for (const r of local.rewrites) console.log(`        ${r}`);
        dir = scratchDir(`haproxy-${stack}`);
        const file = path.join(dir, "haproxy.cfg");
        fs.writeFileSync(file, local.text);
        // The container's command, with the mounted file's path replaced by the scratch copy.
        const [, ...args] = (container.command as string[]).map((a) =>
          a === "/usr/local/etc/haproxy/haproxy.cfg" ? file : a,
        );
        expect(args).to.include(file);
        haproxy = new Running(bin, args);
        const probe = container.readinessProbe.httpGet;
        expect([probe.path, probe.port]).to.deep.equal([HAPROXY_MONITOR_URI, HAPROXY_PORTS.http]);
        await waitFor(
          "HAProxy answers its readiness probe",
          async () => (await request(httpPort, "GET", probe.path).catch(() => undefined))?.status === 200,
          30_000,
          haproxy,
        );
        // Servers start UP; the first round of the rendered checks (inter 5s) must keep them so.
        await waitFor(
          "every server passes its first health check",
          async () => (await serverStates(statsPort)).every((s) => s.check === "L7OK"),
          30_000,
          haproxy,
        );
      });

      after(async function () {
        await haproxy?.stop();
        for (const s of standIns.values()) await closeServer(s);
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
      });

      it("has one backend per worker group that serves routes, plus main", () => {
        const expected = [
          "synapse-main",
          ...workerGroups(counts)
            .filter((g) => g.http)
            .map((g) => g.statefulSet),
        ];
        expect(backendsOf(cfg).sort()).to.deep.equal(expected.sort());
      });

      it("keeps as many servers per backend as its template has slots, each UP by the rendered health check", async () => {
        const slots = new Map(
          [...cfg.matchAll(/^backend (\S+)\n(?:(?!backend ).*\n)*?\s*server-template \S+ (\d+) /gm)].map(
            (m) => [m[1], Number(m[2])],
          ),
        );
        const states = await serverStates(statsPort);
        for (const [backend, n] of slots) {
          const servers = states.filter((s) => s.backend === backend);
          expect(
            servers.map((s) => `${s.status} ${s.check}`),
            backend,
          ).to.deep.equal(Array(n).fill("UP L7OK"));
        }
        expect([...slots.keys()].sort()).to.deep.equal(backendsOf(cfg).sort());
      });

      it("accepts the file as it is rendered (haproxy -c, no warnings)", () => {
        const file = path.join(dir, "rendered.cfg");
        fs.writeFileSync(file, cfg);
        const r = spawnSync(bin, ["-c", "-f", file], { encoding: "utf8" });
        const text = `${r.stdout}${r.stderr}`;
        expect(r.status, text).to.equal(0);
        expect(text).to.not.match(/\[(WARNING|ALERT)\]/);
      });

      it("sends every representative request to the backend routeRequest names", async () => {
        const reached = new Set<string>();
        const wrong: string[] = [];
        for (const [method, p] of paths) {
          const r = await request(httpPort, method, p);
          const want = haproxyBackendName(routeRequest(method, p.split("?")[0], counts));
          if (r.status !== 200 || r.backend !== want)
            wrong.push(`${method} ${p}: ${r.status} ${r.backend}, want ${want}`);
          if (r.backend) reached.add(r.backend);
        }
        expect(wrong).to.deep.equal([]);
        // The list is representative: it reaches every backend of this worker set.
        expect([...reached].sort()).to.deep.equal(backendsOf(cfg).sort());
      });

      it("hands the access token to the sync backend and the room ID to event creators, and only there", async () => {
        const json = async (method: string, p: string, headers: Record<string, string> = {}) => {
          const r = await request(httpPort, method, p, headers);
          return { backend: r.backend, ...(JSON.parse(r.body) as { token?: string; room?: string }) };
        };
        expect(
          await json("GET", "/_matrix/client/v3/sync", { authorization: "Bearer syt_abc_def" }),
        ).to.deep.equal({
          backend: "synapse-synchrotron",
          token: "syt_abc_def",
        });
        expect((await json("GET", "/_matrix/client/v3/sync?access_token=tok2")).token).to.equal("tok2");
        const send = "/_matrix/client/v3/rooms/!room1:x/send/m.room.message/t";
        expect(await json("PUT", send, { "x-access-token": "spoofed" })).to.deep.equal({
          backend: "synapse-event-creator",
          room: "!room1:x",
        });
        expect(await json("POST", "/_matrix/client/v3/login", { "x-matrix-room": "spoofed" })).to.deep.equal({
          backend: "synapse-client-reader",
        });
      });

      it("answers its monitor URI itself", async () => {
        const r = await request(httpPort, "GET", HAPROXY_MONITOR_URI);
        expect(r.status).to.equal(200);
        expect(r.backend).to.equal(undefined);
      });

      it("serves /metrics without logging the scrape, while a normal request is logged", async () => {
        const scrape = await request(statsPort, "GET", "/metrics");
        expect(scrape.status).to.equal(200);
        expect(scrape.body).to.contain("haproxy_frontend_http_requests_total");
        const marker = `/_matrix/client/versions?after-scrape=${stack}`;
        expect((await request(httpPort, "GET", marker)).status).to.equal(200);
        await waitFor(
          "HAProxy logs the normal request",
          () => haproxy!.output().includes(marker),
          10_000,
          haproxy,
        );
        const logged = haproxy!.output().split("\n");
        expect(logged.filter((l) => l.includes("/metrics"))).to.deep.equal([]);
      });

      it("falls back to main once health checks find a worker backend without servers", async () => {
        const send = "/_matrix/federation/v1/send/1";
        expect(routeRequest("PUT", send, counts)).to.equal("federation-inbound");
        expect((await request(httpPort, "PUT", send)).backend).to.equal("synapse-federation-inbound");
        await closeServer(standIns.get("synapse-federation-inbound")!);
        await waitFor(
          "the rendered health checks mark federation-inbound's servers DOWN",
          async () =>
            (await serverStates(statsPort))
              .filter((s) => s.backend === "synapse-federation-inbound")
              .every((s) => s.status === "DOWN"),
          30_000,
          haproxy,
        );
        await waitFor(
          "federation transactions reach synapse-main",
          async () => (await request(httpPort, "PUT", send)).backend === "synapse-main",
          30_000,
          haproxy,
        );
      });
    });
  }
});

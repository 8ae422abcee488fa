import {
  MatrixWorkerCounts,
  defaultWorkerCounts,
  haproxyBackendName,
  renderHaproxyConfig,
  routeRequest,
} from "@keel/matrix";
import { expect } from "chai";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";

/*
 * The generated haproxy.cfg run by a real HAProxy: every backend's server-template is replaced by one local
 * HTTP server that answers with its backend name, then requests go through HAProxy and must land where
 * routeRequest says. Needs an HAProxy binary: set KEEL_HAPROXY_BIN (e.g. from `apt-get download haproxy`);
 * without it this suite is reported as pending, not passed.
 */

const haproxyBin = process.env.KEEL_HAPROXY_BIN;

interface Seen {
  backend: string;
  token?: string;
  room?: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = http.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function request(port: number, method: string, urlPath: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: urlPath, headers }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("matrix config: haproxy.cfg under a real HAProxy", function () {
  this.timeout(30000);
  const counts: MatrixWorkerCounts = defaultWorkerCounts("small");
  const deadBackend = "synapse-federation-inbound";
  let servers: http.Server[] = [];
  let haproxy: ChildProcess | undefined;
  let dir: string;
  let port = 0;

  before(async function () {
    if (!haproxyBin) {
      this.skip();
      return;
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-haproxy-"));
    const cfg = renderHaproxyConfig({ counts, namespace: "matrix" });
    const lines = cfg.split("\n");
    let backend = "";
    const out: string[] = [];
    for (const line of lines) {
      const b = /^backend (\S+)$/.exec(line);
      if (b) backend = b[1];
      if (!line.trim().startsWith("server-template")) {
        out.push(line);
        continue;
      }
      let target: number;
      if (backend === deadBackend) {
        target = await freePort(); // nothing listens: the backend has no server
      } else {
        const name = backend;
        const server = http.createServer((req, res) => {
          if (req.url === "/health") return void res.end("ok");
          const seen: Seen = {
            backend: name,
            token: req.headers["x-access-token"] as string | undefined,
            room: req.headers["x-matrix-room"] as string | undefined,
          };
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify(seen));
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        servers.push(server);
        target = (server.address() as AddressInfo).port;
      }
      out.push(`  server local 127.0.0.1:${target} check inter 100ms fall 1 rise 1`);
    }
    port = await freePort();
    const stats = await freePort();
    const local = out
      .join("\n")
      .replace("bind :8008", `bind 127.0.0.1:${port}`)
      .replace("bind :8405", `bind 127.0.0.1:${stats}`);
    fs.writeFileSync(path.join(dir, "haproxy.cfg"), local);
    haproxy = spawn(haproxyBin, ["-db", "-f", path.join(dir, "haproxy.cfg")], { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      const r = await request(port, "GET", "/_synapse/admin/v1/users").catch(() => undefined);
      const inbound = await request(port, "PUT", "/_matrix/federation/v1/send/1").catch(() => undefined);
      if (r?.status === 200 && inbound?.status === 200) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error("HAProxy did not become ready");
  });

  after(() => {
    haproxy?.kill();
    for (const s of servers) s.close();
    servers = [];
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const paths: [string, string][] = [
    ["GET", "/_matrix/client/v3/sync?since=s1&timeout=30000"],
    ["GET", "/_matrix/client/r0/events"],
    ["PUT", "/_matrix/client/v3/rooms/!a:x/send/m.room.message/txn1"],
    ["POST", "/_matrix/client/v3/join/!b:x"],
    ["GET", "/_matrix/federation/v1/event/$e"],
    ["GET", "/_matrix/media/v3/download/x/y"],
    ["GET", "/_matrix/client/v1/media/thumbnail/x/y?width=32"],
    ["POST", "/_matrix/client/v3/login"],
    ["GET", "/_matrix/client/v3/rooms/!a:x/messages?dir=b"],
    ["GET", "/_synapse/admin/v1/users"],
    ["PUT", "/_matrix/client/v3/sendToDevice/m.room.encrypted/t"],
    ["GET", "/_matrix/client/v3/pushrules/"],
    ["PUT", "/_matrix/client/v3/pushrules/global/override/r"],
    ["POST", "/_matrix/client/v3/keys/upload"],
    ["GET", "/_matrix/client/unstable/org.matrix.msc4140/delayed_events"],
    ["POST", "/_matrix/client/unstable/org.matrix.msc4140/delayed_events/d1"],
  ];

  it("sends every request where routeRequest says", async () => {
    for (const [method, p] of paths) {
      const r = await request(port, method, p);
      expect(r.status, `${method} ${p}`).to.equal(200);
      const seen = JSON.parse(r.body) as Seen;
      expect(seen.backend, `${method} ${p}`).to.equal(haproxyBackendName(routeRequest(method, p, counts)));
    }
  });

  it("falls back to main when a worker backend has no server", async () => {
    expect(routeRequest("PUT", "/_matrix/federation/v1/send/1", counts)).to.equal("federation-inbound");
    const r = await request(port, "PUT", "/_matrix/federation/v1/send/1");
    expect((JSON.parse(r.body) as Seen).backend).to.equal("synapse-main");
  });

  it("hands the access token to the sync backend and the room ID to event creators, and only there", async () => {
    const sync = JSON.parse(
      (await request(port, "GET", "/_matrix/client/v3/sync", { authorization: "Bearer syt_abc_def" })).body,
    ) as Seen;
    expect(sync).to.deep.equal({ backend: "synapse-synchrotron", token: "syt_abc_def" });
    const byParam = JSON.parse(
      (await request(port, "GET", "/_matrix/client/v3/sync?access_token=tok2")).body,
    ) as Seen;
    expect(byParam.token).to.equal("tok2");
    const send = JSON.parse(
      (
        await request(port, "PUT", "/_matrix/client/v3/rooms/!room1:x/send/m.room.message/t", {
          "x-access-token": "spoofed",
        })
      ).body,
    ) as Seen;
    expect(send).to.deep.equal({ backend: "synapse-event-creator", room: "!room1:x" });
    const login = JSON.parse(
      (await request(port, "POST", "/_matrix/client/v3/login", { "x-matrix-room": "spoofed" })).body,
    ) as Seen;
    expect(login).to.deep.equal({ backend: "synapse-client-reader" });
  });

  it("answers its monitor URI itself", async () => {
    const r = await request(port, "GET", "/haproxy-health");
    expect(r.status).to.equal(200);
    expect(r.body).to.not.contain("backend");
  });
});

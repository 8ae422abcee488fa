import { expect } from "chai";
import { spawnSync } from "child_process";
import { createHmac } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { Recorded } from "../unit/harness";
import {
  Running,
  containerEnv,
  ensureProgram,
  expand,
  fileOf,
  find,
  freePort,
  httpRequest,
  renderStack,
  scratchDir,
  versionOf,
  waitFor,
} from "./harness";

/*
 * LiveKit as the program renders it for the dev and the prod stack: the real livekit-server on its rendered
 * livekit.yaml, command line and env (API keys and Redis password from the generated Secrets), with the
 * real redis-server started from the webrtc platform's rendered Redis. Rewrites, printed in the output:
 * listening ports become free ports on 127.0.0.1, Redis's address its local one, the node IP (downward API)
 * 127.0.0.1, and the media interface the loopback one.
 */

/** GET on a connection of its own. */
const get = (port: number, urlPath: string) => httpRequest(port, urlPath, { agent: false });

/** A LiveKit access token (HS256 JWT) allowed to list rooms. */
function accessToken(apiKey: string, apiSecret: string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ iss: apiKey, nbf: now - 10, exp: now + 600, video: { roomList: true } })}`;
  return `${unsigned}.${createHmac("sha256", apiSecret).update(unsigned).digest("base64url")}`;
}

async function listRooms(port: number, token: string): Promise<number> {
  const r = await httpRequest(port, "/twirp/livekit.RoomService/ListRooms", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: "{}",
    agent: false,
  });
  return r.status;
}

interface Ports {
  http: number;
  metrics: number;
  rtcTcp: number;
  rtcUdp: number;
  redis: number;
}

/** livekit.yaml with only listening addresses and peers made local; returns the rewrites made. */
function localize(rendered: string, p: Ports): { text: string; rewrites: string[] } {
  const c = parse(rendered);
  const rewrites: string[] = [];
  const set = (what: string, from: unknown, to: unknown, apply: () => void) => {
    apply();
    rewrites.push(`${what}: ${JSON.stringify(from)} → ${JSON.stringify(to)}`);
  };
  set("port", c.port, p.http, () => (c.port = p.http));
  set("bind_addresses", c.bind_addresses, ["127.0.0.1"], () => (c.bind_addresses = ["127.0.0.1"]));
  // Wherever the metrics port is (prometheus_port is the deprecated form), so LiveKit runs and says so.
  if (c.prometheus?.port !== undefined)
    set("prometheus.port", c.prometheus.port, p.metrics, () => (c.prometheus.port = p.metrics));
  if (c.prometheus_port !== undefined)
    set("prometheus_port", c.prometheus_port, p.metrics, () => (c.prometheus_port = p.metrics));
  set(
    "redis.address",
    c.redis.address,
    `127.0.0.1:${p.redis}`,
    () => (c.redis.address = `127.0.0.1:${p.redis}`),
  );
  set("rtc.tcp_port", c.rtc.tcp_port, p.rtcTcp, () => (c.rtc.tcp_port = p.rtcTcp));
  expect(c.rtc.udp_port, "one UDP port (a range would open no listener at start)").to.be.a("number");
  set("rtc.udp_port", c.rtc.udp_port, p.rtcUdp, () => (c.rtc.udp_port = p.rtcUdp));
  // UDP media listens on the addresses of the included interfaces; loopback ones only when enabled.
  set(
    "rtc.interfaces.includes",
    c.rtc.interfaces.includes,
    ["lo"],
    () => (c.rtc.interfaces.includes = ["lo"]),
  );
  set("rtc.enable_loopback_candidate", c.rtc.enable_loopback_candidate, true, () => {
    c.rtc.enable_loopback_candidate = true;
  });
  return { text: stringify(c), rewrites };
}

/** redis-server from the rendered StatefulSet's args: data folder and port made local. */
function redisArgs(res: Recorded[], name: string, dir: string, port: number): string[] {
  const sts = find(res, "StatefulSet", name);
  const container = sts.inputs.spec.template.spec.containers[0];
  const env = containerEnv(res, sts.inputs.metadata.namespace, container);
  const args = (container.args as string[]).map((a) => expand(a, env));
  args[args.indexOf("--dir") + 1] = dir;
  return [...args, "--port", String(port), "--bind", "127.0.0.1"];
}

describe("conformance: livekit-server runs on the config the program renders", function () {
  let livekitBin = "";
  let redisBin = "";
  let redisCliBin = "";
  before(function () {
    livekitBin = ensureProgram("livekit-server");
    redisBin = ensureProgram("redis-server");
    redisCliBin = path.join(path.dirname(redisBin), "redis-cli");
    console.log(
      `      running: ${versionOf(livekitBin, ["--version"])}; ${versionOf(redisBin, ["--version"])}`,
    );
  });

  for (const stack of ["dev", "prod"] as const) {
    describe(`${stack} stack`, function () {
      let redis: Running | undefined;
      let livekit: Running | undefined;
      let dir = "";
      let ports: Ports;
      let env: Record<string, string> = {};
      let container: any;
      let redisPassword = "";

      const redisCli = (...args: string[]) => {
        const auth = ["--no-auth-warning", "-a", redisPassword];
        const r = spawnSync(redisCliBin, ["-h", "127.0.0.1", "-p", String(ports.redis), ...auth, ...args], {
          encoding: "utf8",
        });
        return `${r.stdout}${r.stderr}`.trim();
      };

      before(async function () {
        const res = await renderStack(stack);
        dir = scratchDir(`livekit-${stack}`);
        ports = {
          http: await freePort(),
          metrics: await freePort(),
          rtcTcp: await freePort(),
          rtcUdp: await freePort(),
          redis: await freePort(),
        };
        const redisDir = path.join(dir, "redis");
        fs.mkdirSync(redisDir);
        redis = new Running(redisBin, redisArgs(res, "webrtc-redis", redisDir, ports.redis));

        const deployment = find(res, "Deployment", "webrtc-livekit");
        container = deployment.inputs.spec.template.spec.containers[0];
        console.log(
          `      ${stack}: the images pin ${container.image} and ${find(res, "StatefulSet", "webrtc-redis").inputs.spec.template.spec.containers[0].image}`,
        );
        env = containerEnv(res, deployment.inputs.metadata.namespace, container, {
          "status.hostIP": "127.0.0.1",
        });
        redisPassword = env.REDIS_PASSWORD;
        const local = localize(fileOf(res, "ConfigMap", "webrtc-livekit-config", "livekit.yaml"), ports);
        console.log(
          `      ${stack}: rewrites (nothing else): NODE_IP (status.hostIP) = 127.0.0.1; the config file's path;`,
        );
        for (const r of local.rewrites) console.log(`        ${r}`);
        const file = path.join(dir, "livekit.yaml");
        fs.writeFileSync(file, local.text);
        await waitFor("redis-server answers", () => redisCli("ping") === "PONG", 30_000, redis);

        const [command, ...args] = [...container.command, ...container.args].map((a: string) =>
          a === "/etc/livekit/livekit.yaml" ? file : expand(a, env),
        );
        expect(command).to.equal("/livekit-server");
        expect(args).to.deep.equal(["--config", file, "--node-ip", "127.0.0.1"]);
        // Only the env the pod has (plus PATH and HOME for the process itself).
        livekit = new Running(livekitBin, args, { env: { PATH: process.env.PATH, HOME: dir, ...env } });
      });

      after(async function () {
        await livekit?.stop();
        await redis?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
      });

      it("becomes ready as its readiness probe sees it (GET / answers 200)", async () => {
        const probe = container.readinessProbe.httpGet;
        expect([probe.path, probe.port]).to.deep.equal(["/", 7880]);
        await waitFor(
          "LiveKit answers its readiness probe with 200",
          async () => (await get(ports.http, probe.path).catch(() => undefined))?.status === 200,
          60_000,
          livekit,
        );
        expect((await get(ports.http, probe.path)).body).to.equal("OK");
      });

      it("registers its node in Redis, authenticated with the generated password", async () => {
        await waitFor(
          "a node in Redis's 'nodes' hash",
          () => /^ND_/.test(redisCli("hkeys", "nodes")),
          30_000,
          livekit,
        );
        const nodes = redisCli("hkeys", "nodes").split("\n");
        expect(nodes).to.have.length(1);
        console.log(
          `      ${stack}: Redis keys: ${redisCli("keys", "*").split("\n").sort().join(", ")}; node ${nodes[0]}`,
        );
        expect(redisCli("hget", "nodes", nodes[0])).to.contain("127.0.0.1");
      });

      it("accepts tokens signed with the generated API key pair, and no other", async () => {
        const [key, secret] = env.LIVEKIT_KEYS.split(": ");
        expect(await listRooms(ports.http, accessToken(key, secret))).to.equal(200);
        expect(await listRooms(ports.http, accessToken(key, `${secret}x`))).to.equal(401);
      });

      it("serves Prometheus metrics on the port its config names", async () => {
        const r = await get(ports.metrics, "/metrics");
        expect(r.status).to.equal(200);
        expect(r.body).to.match(/^livekit_/m);
      });

      it("logs no deprecation warning about its config", () => {
        const lines = livekit!.output().split("\n");
        const warnings = lines.filter((l) => /\bWARN\b|"level":"warn"/i.test(l));
        console.log(
          `      ${stack}: LiveKit's warnings: ${warnings.length ? "\n        " + warnings.join("\n        ") : "none"}`,
        );
        expect(lines.filter((l) => /deprecat/i.test(l))).to.deep.equal([]);
      });
    });
  }
});

import { imageCatalog } from "@keel/core";
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { Recorded } from "../unit/harness";
import {
  Running,
  containerEnv,
  dataOf,
  ensureProgram,
  expand,
  find,
  freePort,
  httpRequest,
  objectIn,
  renderStack,
  scratchDir,
  versionOf,
  waitFor,
} from "./harness";

// The real stunnerd and coturn on the config, args and env the program renders for the dev and prod stacks.
// Only listen addresses/ports and file paths are rewritten; every rewrite is in the `rewrites` tables
// below and printed with the test output. The generated TURN secret is read from the rendered Secret (the
// mocks give it a stand-in value that flows through the same wiring).

type Container = { args?: string[]; env?: any[]; volumeMounts?: any[]; readinessProbe?: any };
type Pod = { containers: Container[]; volumes: any[] };
/** One change to what is rendered: `from` is the text replaced in a config file (none for args and env). */
interface Rewrite {
  what: string;
  to: string;
  from?: RegExp;
}

/** The files a Secret or ConfigMap volume shows, as rendered. */
function volumeFiles(res: Recorded[], namespace: string, volume: any): Record<string, string> {
  if (volume.secret) return dataOf(objectIn(res, "Secret", namespace, volume.secret.secretName));
  return dataOf(objectIn(res, "ConfigMap", namespace, volume.configMap.name));
}

/** Writes files the way the kubelet does for Secret and ConfigMap volumes: `..data` → a timestamped dir. */
function atomicWrite(dir: string, files: Record<string, string>): void {
  const stamp = `..${Date.now()}_${Math.random().toString(36).slice(2)}`;
  fs.mkdirSync(path.join(dir, stamp), { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, stamp, name), text);
  const old = fs.existsSync(path.join(dir, "..data")) ? fs.readlinkSync(path.join(dir, "..data")) : undefined;
  fs.symlinkSync(stamp, path.join(dir, "..data_tmp"));
  fs.renameSync(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
  for (const name of Object.keys(files)) {
    if (!fs.existsSync(path.join(dir, name))) fs.symlinkSync(path.join("..data", name), path.join(dir, name));
  }
  if (old) fs.rmSync(path.join(dir, old), { recursive: true });
}

/**
 * The pod's volumes under a scratch dir (Secret and ConfigMap volumes with their rendered files, emptyDirs
 * empty) and the mapping of container paths to local ones: a path on no volume would hit the read-only root
 * filesystem, so it fails here.
 */
function mountVolumes(res: Recorded[], namespace: string, pod: Pod, scratch: string) {
  const mounts = [...(pod.containers[0].volumeMounts ?? [])].sort(
    (a, b) => b.mountPath.length - a.mountPath.length,
  );
  for (const m of mounts) {
    const v = pod.volumes.find((x) => x.name === m.name);
    const dir = path.join(scratch, m.mountPath);
    fs.mkdirSync(dir, { recursive: true });
    if (v.secret || v.configMap) atomicWrite(dir, volumeFiles(res, namespace, v));
  }
  return (p: string): string => {
    const m = mounts.find((x) => p === x.mountPath || p.startsWith(`${x.mountPath}/`));
    if (!m) throw new Error(`${p} is on no volume of the pod (the root filesystem is read-only)`);
    return path.join(scratch, p);
  };
}

/** Applies every rewrite exactly once, or fails naming the one that did not match. */
function rewrite(text: string, rewrites: Rewrite[]): string {
  return rewrites.reduce((t, r) => {
    if (!r.from) return t;
    const hits = t.match(new RegExp(r.from.source, `${r.from.flags.replace("g", "")}g`)) ?? [];
    if (hits.length !== 1)
      throw new Error(`rewrite "${r.what}": ${r.from} matched ${hits.length} times in\n${t}`);
    return t.replace(r.from, r.to);
  }, text);
}

function printRewrites(program: string, rewrites: Rewrite[]): void {
  console.log(`      ${program}, rewritten:`);
  for (const r of rewrites) console.log(`        ${r.what}: ${r.to.trim()}`);
}

function deployment(res: Recorded[], name: RegExp): { namespace: string; pod: Pod; c: Container } {
  const d = find(res, "Deployment", name).inputs;
  return {
    namespace: d.metadata.namespace,
    pod: d.spec.template.spec,
    c: d.spec.template.spec.containers[0],
  };
}

/** The status of a GET, 0 when there is no answer within 2 s. */
function httpStatus(port: number, urlPath: string): Promise<number> {
  return httpRequest(port, urlPath, { timeout: 2000 }).then(
    (r) => r.status,
    () => 0,
  );
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/**
 * One TURN-UDP allocation by coturn's own client with TURN REST (ephemeral) credentials derived from
 * `secret`, as clients get them: `<expiry>:<user>` and base64(HMAC-SHA1(secret, username)). It then asks to
 * relay to 127.0.0.1, which both servers must refuse (private and loopback peers are not allowed).
 */
function allocate(uclient: string, port: number, secret: string) {
  const args = ["-v", "-n", "1", "-m", "1", "-c", "-p", `${port}`, "-u", "keel-conformance", "-W", secret];
  const r = spawnSync(uclient, [...args, "-e", "127.0.0.1", "127.0.0.1"], {
    encoding: "utf8",
    timeout: 30_000,
  });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ?? ""}`;
  return { allocated: /Received relay addr: 127\.0\.0\.1:\d+/.test(out), out };
}

/** The server answered the allocation and refused it (coturn: 401 and gives up; stunnerd: 400 on a bad integrity). */
function expectRefused(r: { allocated: boolean; out: string }, what: string): void {
  expect(r.allocated, `${what}:\n${r.out}`).to.equal(false);
  expect(r.out, what).to.match(/allocate response received/);
  expect(r.out, what).to.match(/error 4\d\d|Cannot complete Allocation/);
}

describe("conformance: STUNner (stunnerd) and coturn run the rendered TURN config", function () {
  let stunnerd: string;
  let turnserver: string;
  let uclient: string;
  const running: Running[] = [];
  const scratchDirs: string[] = [];
  const scratch = (prefix: string) => {
    const dir = scratchDir(prefix);
    scratchDirs.push(dir);
    return dir;
  };
  const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => {
    const p = new Running(cmd, args, { env });
    running.push(p);
    return p;
  };

  before(function () {
    stunnerd = ensureProgram("stunnerd");
    turnserver = ensureProgram("coturn");
    uclient = path.join(path.dirname(turnserver), "turnutils_uclient");
    const built = stunnerd.match(/stunnerd-(v[0-9.]+)/)?.[1] ?? "(unknown)";
    const pin = (k: "stunnerd" | "coturn") => `${imageCatalog[k].repository}:${imageCatalog[k].tag}`;
    console.log(
      `      stunnerd: github.com/l7mp/stunner@${built} ./cmd/stunnerd (${versionOf("go", ["version", stunnerd])}); image pinned ${pin("stunnerd")}`,
    );
    console.log(
      `      coturn: Debian 12 turnserver ${versionOf(turnserver, ["--version"])}; image pinned ${pin("coturn")}`,
    );
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    for (const dir of scratchDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const stack of ["dev", "prod"] as const) {
    describe(`the ${stack} stack`, () => {
      let res: Recorded[];
      let generated: string;
      before(async () => {
        res = await renderStack(stack);
        generated = volumeFiles(res, "webrtc", { secret: { secretName: "turn-shared-secret" } }).secret;
        expect(generated, "the generated TURN secret").to.match(/^generated-/);
      });

      /** stunnerd from the rendered Deployment and config Secret; returns its TURN port and process. */
      async function startStunnerd() {
        const { namespace, pod, c } = deployment(res, /stunnerd$/);
        const local = mountVolumes(res, namespace, pod, scratch(`stunnerd-${stack}`));
        const [health, turn] = [await freePort(), await freePort()];
        // The config origin (-c) keeps its form; only the path in it moves to the scratch dir.
        const origin = c.args![c.args!.indexOf("-c") + 1];
        const inPod = origin.replace(/^file:\/\//, "");
        const configPath = local(inPod);
        const rewrites: Rewrite[] = [
          {
            what: "health listener",
            from: /healthcheck_endpoint: "http:\/\/:8086"/,
            to: `healthcheck_endpoint: "http://127.0.0.1:${health}"`,
          },
          { what: "TURN listener port", from: /(?<=^\s+)port: 3478$/m, to: `port: ${turn}` },
        ];
        const dir = path.dirname(configPath);
        atomicWrite(dir, {
          [path.basename(configPath)]: rewrite(fs.readFileSync(configPath, "utf8"), rewrites),
        });
        const args = c.args!.map((a) => (a === origin ? origin.replace(inPod, configPath) : a));
        printRewrites("stunnerd", [
          ...rewrites,
          // stunnerd 1.2.1 binds its TURN listener to the wildcard address whatever this says (server.go
          // StartServer): the listener is on every interface, on a random port, while the test runs.
          { what: "listener and relay address (env STUNNER_ADDR from status.podIP)", to: "127.0.0.1" },
          { what: "config origin (-c)", to: origin.replace(inPod, configPath) },
          { what: "command stunnerd", to: stunnerd },
        ]);
        const env = containerEnv(res, namespace, c, { "status.podIP": "127.0.0.1" });
        const p = run(
          stunnerd,
          args.map((a) => expand(a, env)),
          env,
        );
        const probe = c.readinessProbe.httpGet;
        expect(probe.port, "the readiness probe checks the health listener").to.equal(8086);
        const ready = `http://127.0.0.1:${health}${probe.path}`;
        await waitFor(
          `stunnerd ${ready} answers 200`,
          async () => (await httpStatus(health, probe.path)) === 200,
          30_000,
          p,
        );
        return { p, turn, configPath, dir };
      }

      it("stunnerd is ready; the generated secret gets a TURN allocation, the source's literal and a wrong secret are refused", async () => {
        const { p, turn } = await startStunnerd();
        const ok = allocate(uclient, turn, generated);
        expect(ok.allocated, `allocation with the generated secret:\n${ok.out}\n${p.output()}`).to.equal(
          true,
        );
        // 127.0.0.1 is in no cluster (peerCidrs): relaying there is refused.
        await waitFor(
          "stunnerd refuses the loopback peer",
          () => /permission denied .* to peer 127\.0\.0\.1/.test(p.output()),
          10_000,
          p,
        );
        // The literal the config used to carry: anyone reading the source could mint credentials with it.
        for (const wrong of ["$STUNNER_SHARED_SECRET", "not-the-generated-secret"]) {
          expectRefused(allocate(uclient, turn, wrong), `allocation with ${wrong}`);
        }
        expect(p.output(), "stunnerd's log").not.to.contain(generated);
      });

      // -w with file:// (pkg/config/client/file_client.go): the kubelet's swap of `..data` deletes the watched
      // file, the watcher reports REMOVE, and stunnerd reloads the path once it exists again (RetryPeriod, 1 s).
      it("stunnerd applies a rotated secret from its Secret volume without a restart (-w watches file://)", async () => {
        const { p, turn, configPath, dir } = await startStunnerd();
        const rotated = `rotated-${stack}-${Date.now()}`;
        const text = fs.readFileSync(configPath, "utf8");
        expect(text).to.contain(`secret: "${generated}"`);
        atomicWrite(dir, { [path.basename(configPath)]: text.replace(generated, rotated) });
        await waitFor(
          "the rotated secret is accepted",
          () => allocate(uclient, turn, rotated).allocated,
          30_000,
          p,
        );
        expectRefused(allocate(uclient, turn, generated), "the old secret after rotation");
        expect(p.exited()).to.equal(false);
      });

      it("coturn grants the generated secret an allocation, refuses a wrong one, and refuses relaying to loopback", async () => {
        const { namespace, pod, c } = deployment(res, /coturn$/);
        expect(namespace).to.equal("turn");
        const local = mountVolumes(res, namespace, pod, scratch(`coturn-${stack}`));
        const confPath = c.args![c.args!.indexOf("-c") + 1];
        const port = await freePort();
        const rewrites: Rewrite[] = [
          { what: "listening port", from: /^listening-port=3478$/m, to: `listening-port=${port}` },
          // Rendered without one: the pod listens on every address of its (host) network.
          { what: "listening address, added", from: /^(?=listening-port=)/m, to: "listening-ip=127.0.0.1\n" },
          { what: "pid file", from: /^pidfile=(.*)$/m, to: `pidfile=${local("/tmp/turnserver.pid")}` },
          { what: "user database", from: /^userdb=(.*)$/m, to: `userdb=${local("/var/lib/coturn/turndb")}` },
        ];
        const conf = local(confPath);
        atomicWrite(path.dirname(conf), {
          [path.basename(conf)]: rewrite(fs.readFileSync(conf, "utf8"), rewrites),
        });
        printRewrites("coturn", [
          ...rewrites,
          { what: "config file (-c)", to: conf },
          { what: "image entrypoint turnserver", to: turnserver },
        ]);
        const env = containerEnv(res, namespace, c);
        const args = c.args!.map((a) => (a === confPath ? conf : expand(a, env)));
        expect(args.join(" ")).to.contain(`--static-auth-secret=${generated}`);
        const p = run(turnserver, args, env);
        expect(c.readinessProbe.tcpSocket.port, "the readiness probe checks the TURN port").to.equal(3478);
        await waitFor("turnserver accepts TCP on its port (the pod's probe)", () => tcpOpen(port), 30_000, p);
        const ok = allocate(uclient, port, generated);
        expect(ok.allocated, `allocation with the generated secret:\n${ok.out}\n${p.output()}`).to.equal(
          true,
        );
        expect(ok.out, "relaying to loopback (denied-peer-ip)").to.match(/403 \(Forbidden IP\)/);
        expectRefused(allocate(uclient, port, "not-the-generated-secret"), "allocation with a wrong secret");
      });
    });
  }
});

import { parseMemory, redisMaxmemory } from "@keel/core";
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Recorded } from "../unit/harness";
import {
  Running,
  containerEnv,
  ensureProgram,
  expand,
  freePort,
  renderStack,
  scratchDir,
  versionOf,
  waitFor,
} from "./harness";

/*
 * Every Redis the program renders for the dev and the prod stack (core Redis: a StatefulSet running
 * redis-server with its settings as arguments and the password from a generated Secret), started by a real
 * redis-server from its rendered command, arguments and env. Rewrites, nothing else: the data volume's mount
 * path (/data) becomes a scratch folder, and the pod's port 6379 on all addresses becomes a free port on
 * 127.0.0.1 (added --port and --bind).
 */

interface Instance {
  name: string;
  container: any;
  env: Record<string, string>;
  password: string;
  dir: string;
  port: number;
  proc?: Running;
}

function redisInstances(res: Recorded[]): Omit<Instance, "dir" | "port">[] {
  return res
    .filter((r) => r.type === "kubernetes:apps/v1:StatefulSet")
    .map((r) => ({ r, container: r.inputs.spec.template.spec.containers[0] }))
    .filter(({ container }) => container.command?.[0] === "redis-server")
    .map(({ r, container }) => {
      const env = containerEnv(res, r.inputs.metadata.namespace, container);
      return { name: r.name, container, env, password: env.REDIS_PASSWORD };
    });
}

/** redis-server's arguments from the rendered ones, with the two rewrites. */
function serverArgs(i: Instance): string[] {
  const args = (i.container.args as string[]).map((a) => expand(a, i.env));
  const dir = args.indexOf("--dir");
  expect(args[dir + 1]).to.equal("/data");
  args[dir + 1] = i.dir;
  return [...args, "--port", String(i.port), "--bind", "127.0.0.1"];
}

describe("conformance: redis-server runs every Redis the program renders", function () {
  let bin = "";
  let cli = "";
  before(function () {
    bin = ensureProgram("redis-server");
    cli = path.join(path.dirname(bin), "redis-cli");
    console.log(`      running: ${versionOf(bin, ["--version"])}`);
  });

  function redisCli(i: Instance, args: string[], password?: string) {
    const auth = password === undefined ? [] : ["--no-auth-warning", "-a", password];
    const r = spawnSync(cli, ["-h", "127.0.0.1", "-p", String(i.port), ...auth, ...args], {
      encoding: "utf8",
    });
    return `${r.stdout}${r.stderr}`.trim();
  }

  async function start(i: Instance): Promise<void> {
    i.proc = new Running(bin, serverArgs(i));
    await waitFor(`${i.name} answers`, () => redisCli(i, ["ping"], i.password) === "PONG", 30_000, i.proc);
  }

  for (const stack of ["dev", "prod"] as const) {
    describe(`${stack} stack`, function () {
      let instances: Instance[] = [];

      before(async function () {
        const res = await renderStack(stack);
        for (const r of redisInstances(res)) {
          instances.push({ ...r, dir: scratchDir(`redis-${stack}`), port: await freePort() });
        }
        console.log(`      ${stack}: ${instances.map((i) => i.name).join(", ")}`);
        console.log(
          `      ${stack}: rewrites: --dir /data → a scratch folder; --port <free> --bind 127.0.0.1 added`,
        );
        console.log(
          `      ${stack}: the image pins ${[...new Set(instances.map((i) => i.container.image))]}`,
        );
        for (const i of instances) await start(i);
      });

      after(async function () {
        for (const i of instances) {
          await i.proc?.stop();
          fs.rmSync(i.dir, { recursive: true, force: true });
        }
        instances = [];
      });

      it("has a Redis with a generated password for every platform that uses one", () => {
        expect(instances.map((i) => i.name).sort()).to.include.members([
          "ai-core-redis",
          "matrix-av-redis",
          "matrix-redis",
          "microservices-redis",
          "osint-redis",
          "webrtc-redis",
        ]);
        for (const i of instances) expect(i.password, i.name).to.match(/^generated-.*-password-/);
      });

      it("answers its rendered readiness probe command, which fails with a wrong password", () => {
        for (const i of instances) {
          const [sh, flag, script] = i.container.readinessProbe.exec.command as string[];
          // The probe reaches the pod's own 6379; here the instance listens on i.port.
          const local = script.replace("redis-cli ", `redis-cli -p ${i.port} `);
          const run = (password: string) =>
            spawnSync(sh, [flag, local], {
              env: { PATH: `${path.dirname(cli)}:${process.env.PATH}`, REDIS_PASSWORD: password },
            }).status;
          expect(run(i.password), i.name).to.equal(0);
          expect(run("wrong"), i.name).to.not.equal(0);
        }
      });

      it("took maxmemory (70 % of the memory limit) and the eviction policy (CONFIG GET)", () => {
        for (const i of instances) {
          const args = i.container.args as string[];
          const limit = parseMemory(i.container.resources.limits.memory);
          expect(redisCli(i, ["config", "get", "maxmemory"], i.password), i.name).to.equal(
            `maxmemory\n${redisMaxmemory(limit)}`,
          );
          expect(redisCli(i, ["config", "get", "maxmemory-policy"], i.password), i.name).to.equal(
            `maxmemory-policy\n${args[args.indexOf("--maxmemory-policy") + 1]}`,
          );
        }
      });

      it("took the persistence settings: append-only file as rendered, no RDB snapshots, data in the volume", () => {
        for (const i of instances) {
          const args = i.container.args as string[];
          const get = (key: string) => redisCli(i, ["config", "get", key], i.password).split("\n")[1] ?? "";
          expect(get("appendonly"), i.name).to.equal(args[args.indexOf("--appendonly") + 1]);
          expect(get("save"), i.name).to.equal("");
          expect(get("dir"), i.name).to.equal(fs.realpathSync(i.dir));
        }
      });

      it("refuses commands without AUTH and AUTH with a wrong password; accepts the generated one", () => {
        for (const i of instances) {
          expect(redisCli(i, ["get", "k"]), i.name).to.match(/^NOAUTH/);
          expect(redisCli(i, ["ping"], "wrong-password"), i.name).to.match(/WRONGPASS|invalid password/);
          expect(redisCli(i, ["auth", "wrong-password"]), i.name).to.match(/WRONGPASS|invalid password/);
          expect(redisCli(i, ["ping"], i.password), i.name).to.equal("PONG");
        }
      });

      it("keeps data across a restart where persistence is on", async () => {
        const persistent = instances.filter((i) =>
          redisCli(i, ["config", "get", "appendonly"], i.password).endsWith("yes"),
        );
        expect(persistent, "no instance with persistence").to.not.be.empty;
        for (const i of persistent) {
          expect(redisCli(i, ["set", "keel:conformance", i.name], i.password), i.name).to.equal("OK");
          await i.proc!.stop();
          expect(fs.existsSync(path.join(i.dir, "appendonlydir")), `${i.name}: append-only files`).to.equal(
            true,
          );
          expect(fs.existsSync(path.join(i.dir, "dump.rdb")), `${i.name}: RDB snapshot`).to.equal(false);
          await start(i);
          expect(redisCli(i, ["get", "keel:conformance"], i.password), i.name).to.equal(i.name);
        }
      });
    });
  }
});

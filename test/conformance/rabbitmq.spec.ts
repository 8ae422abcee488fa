import { expect } from "chai";
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Recorded } from "../unit/harness";
import {
  HttpAnswer,
  Running,
  containerEnv,
  ensureProgram,
  find,
  freePort,
  httpRequest,
  renderStack,
  scratchDir,
  unprivileged,
  waitFor,
} from "./harness";

/*
 * The OSINT platform's RabbitMQ with its rendered configuration, run by the real server: Debian 12's
 * rabbitmq-server 3.10.8 on Erlang/OTP 25. The pod runs docker.io/library/rabbitmq:4.1.3-management, which
 * needs Erlang 26 or later; Debian 12 has 25, so 4.x cannot run here. Every rendered key exists in 3.10's
 * schema (the server refuses unknown keys at boot); none is 4.x-only. Where 4.x differs it is said below.
 *
 * What is rendered is used as rendered: 10-keel.conf, RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS (the
 * generated Secret's value), the probes' commands. Rewrites, and nothing else:
 *  1. `listeners.tcp.default = 5672` → `127.0.0.1:<free port>`
 *  2. `management.tcp.port = 15672` → a free port, `management.tcp.ip = 127.0.0.1` added
 *  3. `prometheus.tcp.port = 15692` → a free port, `prometheus.tcp.ip = 127.0.0.1` added
 *  4. RABBITMQ_CONFIG_FILES /etc/rabbitmq/conf.d → <scratch>/conf.d
 * What the image provides and the program does not render, given here (all in scratch): the data directory
 * and HOME (/var/lib/rabbitmq: mnesia and the Erlang cookie the server creates on first boot), the enabled
 * plugins (the -management image enables rabbitmq_management and rabbitmq_prometheus), a node name, the
 * Erlang distribution and epmd ports on 127.0.0.1, and no /etc/rabbitmq files from the host.
 * Debian's wrappers hard-code /usr/lib/rabbitmq, /var/lib/rabbitmq and /usr/lib/erlang, so the package's own
 * sbin scripts run, with an `erl` that knows where Erlang was unpacked.
 */

const rendered = { amqp: 5672, management: 15672, prometheus: 15692 } as const;
/** The -management image's enabled plugins (docker-library/rabbitmq). */
const imagePlugins = ["rabbitmq_management", "rabbitmq_prometheus"];

interface RenderedRabbit {
  conf: string;
  container: any;
  env: Record<string, string>;
}

function renderedRabbit(res: Recorded[]): RenderedRabbit {
  const sts = find(res, "StatefulSet", /^osint-rabbitmq$/);
  const spec = sts.inputs.spec.template.spec;
  const ns = sts.inputs.metadata.namespace;
  const container = spec.containers[0];
  const mount = container.volumeMounts.find((m: any) => m.mountPath === "/etc/rabbitmq/conf.d");
  const cmName = spec.volumes.find((v: any) => v.name === mount.name).configMap.name;
  const cm = res.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.metadata?.name === cmName);
  return { conf: cm!.inputs.data["10-keel.conf"], container, env: containerEnv(res, ns, container) };
}

/** The value of a rabbitmq.conf key that must appear exactly once. */
function setting(conf: string, key: string): string {
  const lines = conf.split("\n").filter((l) => l.startsWith(`${key} = `));
  expect(lines, `${key} in 10-keel.conf`).to.have.length(1);
  return lines[0].slice(key.length + 3);
}

function rewrite(conf: string, key: string, from: string, to: string): string {
  expect(setting(conf, key), key).to.equal(from);
  return conf.replace(`\n${key} = ${from}\n`, `\n${key} = ${to}\n`);
}

/** Where the Debian packages were unpacked: RabbitMQ's sbin scripts and Erlang's root. */
function layout(wrapper: string) {
  const root = path.resolve(path.dirname(wrapper), "..");
  const lib = path.join(root, "usr/lib/rabbitmq/lib");
  const server = fs.readdirSync(lib).find((d) => d.startsWith("rabbitmq_server-"));
  const erlang = path.join(root, "usr/lib/erlang");
  const erts = fs.readdirSync(erlang).find((d) => d.startsWith("erts-"));
  if (!server || !erts) throw new Error(`no rabbitmq_server-* or erts-* under ${root}`);
  return { root, sbin: path.join(lib, server, "sbin"), erlang, ertsBin: path.join(erlang, erts, "bin") };
}

type Layout = ReturnType<typeof layout>;

/** An `erl` for the unpacked Erlang (Debian's hard-codes ROOTDIR=/usr/lib/erlang). */
function erlShim(l: Layout): string {
  const libs = [path.join(l.root, "usr/lib/x86_64-linux-gnu"), path.join(l.root, "lib/x86_64-linux-gnu")];
  return [
    "#!/bin/sh",
    `export ROOTDIR=${l.erlang} BINDIR=${l.ertsBin} EMU=beam PROGNAME=erl`,
    `export LD_LIBRARY_PATH=${libs.join(":")}\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}`,
    'exec "$BINDIR/erlexec" "$@"',
    "",
  ].join("\n");
}

/** The management API and metrics listeners on 127.0.0.1. */
const httpGet = (port: number, urlPath: string, auth?: string) =>
  httpRequest(port, urlPath, { auth, timeout: 10_000 });

class LocalRabbit {
  readonly dir = scratchDir("rabbitmq");
  readonly l: Layout;
  ports = { amqp: 0, management: 0, prometheus: 0, dist: 0, epmd: 0, ctl: 0 };
  conf = "";
  env: NodeJS.ProcessEnv = {};
  private epmd?: Running;
  private server?: Running;

  constructor(
    readonly r: RenderedRabbit,
    wrapper: string,
  ) {
    this.l = layout(wrapper);
  }

  async prepare(): Promise<void> {
    for (const k of Object.keys(this.ports) as (keyof typeof this.ports)[]) this.ports[k] = await freePort();
    const p = (...s: string[]) => path.join(this.dir, ...s);
    for (const d of ["conf.d", "bin", "home", "log"]) fs.mkdirSync(p(d));
    let conf = this.r.conf;
    conf = rewrite(conf, "listeners.tcp.default", String(rendered.amqp), `127.0.0.1:${this.ports.amqp}`);
    conf = rewrite(conf, "management.tcp.port", String(rendered.management), String(this.ports.management));
    conf = rewrite(conf, "prometheus.tcp.port", String(rendered.prometheus), String(this.ports.prometheus));
    this.conf = `${conf}management.tcp.ip = 127.0.0.1\nprometheus.tcp.ip = 127.0.0.1\n`;
    fs.writeFileSync(p("conf.d", "10-keel.conf"), this.conf);
    fs.writeFileSync(p("enabled_plugins"), `[${imagePlugins.join(",")}].\n`);
    fs.writeFileSync(p("bin", "erl"), erlShim(this.l), { mode: 0o755 });
    expect(this.r.env.RABBITMQ_CONFIG_FILES).to.equal("/etc/rabbitmq/conf.d");
    const loopbackDist = "-kernel inet_dist_use_interface {127,0,0,1}";
    this.env = {
      ...process.env,
      ...this.r.env,
      RABBITMQ_CONFIG_FILES: p("conf.d"),
      PATH: `${p("bin")}:${process.env.PATH}`,
      HOME: p("home"),
      RABBITMQ_NODENAME: `keel-conf-${randomBytes(4).toString("hex")}@localhost`,
      RABBITMQ_MNESIA_BASE: p("home", "mnesia"),
      RABBITMQ_LOG_BASE: p("log"),
      RABBITMQ_ENABLED_PLUGINS_FILE: p("enabled_plugins"),
      RABBITMQ_CONFIG_FILE: p("no-rabbitmq"),
      RABBITMQ_ADVANCED_CONFIG_FILE: p("no-advanced.config"),
      RABBITMQ_CONF_ENV_FILE: p("no-rabbitmq-env.conf"),
      RABBITMQ_DIST_PORT: String(this.ports.dist),
      ERL_EPMD_PORT: String(this.ports.epmd),
      ERL_EPMD_ADDRESS: "127.0.0.1",
      RABBITMQ_CTL_DIST_PORT_MIN: String(this.ports.ctl),
      RABBITMQ_CTL_DIST_PORT_MAX: String(this.ports.ctl),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: loopbackDist,
      RABBITMQ_CTL_ERL_ARGS: loopbackDist,
    };
  }

  /**
   * epmd first (on its own port, stopped with the test), then the server as the image starts it; both
   * unprivileged, as in the pod (uid 999).
   */
  async start(): Promise<void> {
    const [ecmd, eargs] = unprivileged(path.join(this.l.ertsBin, "epmd"), [
      "-port",
      String(this.ports.epmd),
      "-address",
      "127.0.0.1",
    ]);
    this.epmd = new Running(ecmd, eargs, { env: this.env });
    const [cmd, args] = unprivileged(path.join(this.l.sbin, "rabbitmq-server"), []);
    this.server = new Running(cmd, args, { env: this.env, cwd: this.dir });
  }

  output(): string {
    return this.server?.output() ?? "";
  }

  running(): Running | undefined {
    return this.server;
  }

  /** A CLI command of the package (rabbitmq-diagnostics, rabbitmqctl) against this node. */
  cli(command: string[]): { status: number | null; output: string } {
    const [program, ...rest] = command;
    const [cmd, args] = unprivileged(path.join(this.l.sbin, program), rest);
    const r = spawnSync(cmd, args, { env: this.env, encoding: "utf8", timeout: 60_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  }

  api(urlPath: string, user: string, password: string): Promise<HttpAnswer> {
    return httpGet(this.ports.management, urlPath, `${user}:${password}`);
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    await this.epmd?.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

describe("RabbitMQ: the OSINT platform's broker on the real RabbitMQ", function () {
  let wrapper = "";
  before(function () {
    wrapper = ensureProgram("rabbitmq-server");
  });

  for (const stack of ["dev", "prod"] as const) {
    describe(`${stack} stack`, () => {
      let r: RenderedRabbit;
      let rabbit: LocalRabbit;
      let user = "";
      let password = "";
      before(async () => {
        r = renderedRabbit(await renderStack(stack));
        user = r.env.RABBITMQ_DEFAULT_USER;
        password = r.env.RABBITMQ_DEFAULT_PASS;
        console.log(
          `      pod image ${r.container.image}; 10-keel.conf:\n${r.conf.replace(/^/gm, "        ")}`,
        );
        rabbit = new LocalRabbit(r, wrapper);
        await rabbit.prepare();
      });
      after(async () => rabbit?.stop());

      it("exposes the ports the configuration listens on", () => {
        const ports = Object.fromEntries(r.container.ports.map((p: any) => [p.name, p.containerPort]));
        expect(ports).to.deep.equal({
          amqp: Number(setting(r.conf, "listeners.tcp.default")),
          management: Number(setting(r.conf, "management.tcp.port")),
          metrics: Number(setting(r.conf, "prometheus.tcp.port")),
        });
      });

      it("boots with the rendered configuration, and the startup probe (rabbitmq-diagnostics -q ping) passes", async () => {
        const startup = r.container.startupProbe.exec.command;
        expect(startup).to.deep.equal(["rabbitmq-diagnostics", "-q", "ping"]);
        await rabbit.start();
        await waitFor(
          "rabbitmq-diagnostics -q ping",
          () => rabbit.cli(startup).status === 0,
          180_000,
          rabbit.running(),
        );
        await waitFor(
          "server startup complete",
          () => /Server startup complete/.test(rabbit.output()),
          60_000,
          rabbit.running(),
        );
        expect(rabbit.output()).to.contain(path.join(rabbit.dir, "conf.d", "10-keel.conf"));
        expect(rabbit.output()).not.to.match(/\[error\]/);
        const warnings = rabbit
          .output()
          .split("\n")
          .filter((l) => l.includes("[warning]"));
        console.log(`      server warnings:\n${warnings.map((w) => `        ${w}`).join("\n")}`);
        const overview = JSON.parse((await rabbit.api("/api/overview", user, password)).body);
        console.log(
          `      running RabbitMQ ${overview.rabbitmq_version} on ${overview.erlang_full_version.trim()} (Debian 12 rabbitmq-server)`,
        );
      });

      it("passes the readiness (check_running) and liveness (ping) probes", () => {
        for (const p of [r.container.readinessProbe, r.container.livenessProbe]) {
          const result = rabbit.cli(p.exec.command);
          expect(result.status, `${p.exec.command.join(" ")}: ${result.output}`).to.equal(0);
        }
      });

      it("applies OpenCTI's message size and consumer timeout as rendered", () => {
        const keys = ["max_message_size", "consumer_timeout", "total_memory_available_override_value"];
        const expr = `[element(2, application:get_env(rabbit, K)) || K <- [${keys.join(", ")}]].`;
        const got = rabbit.cli(["rabbitmqctl", "eval", expr]);
        expect(got.status, got.output).to.equal(0);
        const expected = keys.map((k) => setting(r.conf, k));
        expect(got.output.replace(/\s+/g, "")).to.equal(`[${expected.join(",")}]`);
      });

      it("sets the memory alarm at 0.6 of the rendered memory and the disk alarm at 1 GB", async () => {
        // The management API reports a node's limits once its first statistics have been collected.
        let nodes: any[] = [];
        await waitFor("node statistics in /api/nodes", async () => {
          nodes = JSON.parse((await rabbit.api("/api/nodes", user, password)).body);
          return typeof nodes[0]?.mem_limit === "number";
        });
        const total = Number(setting(r.conf, "total_memory_available_override_value"));
        const ratio = Number(setting(r.conf, "vm_memory_high_watermark.relative"));
        expect(nodes[0].mem_limit).to.equal(Math.floor(total * ratio));
        expect(setting(r.conf, "disk_free_limit.absolute")).to.equal("1GB");
        expect(nodes[0].disk_free_limit).to.equal(1_000_000_000);
        expect(nodes[0].mem_alarm).to.equal(false);
      });

      it("authenticates the generated user and refuses a wrong password", () => {
        // The mocks' stand-in for the RandomPassword (32 characters, letters and digits in a real `pulumi up`).
        expect(password).to.match(/^[A-Za-z0-9-]+$/);
        const ok = rabbit.cli(["rabbitmqctl", "authenticate_user", user, password]);
        expect(ok.status, ok.output).to.equal(0);
        const wrong = rabbit.cli(["rabbitmqctl", "authenticate_user", user, `${password}x`]);
        expect(wrong.status).not.to.equal(0);
        expect(wrong.output).to.contain("invalid credentials");
      });

      it("lets the generated user into the management API as administrator; no guest account", async () => {
        const me = await rabbit.api("/api/whoami", user, password);
        expect(me.status).to.equal(200);
        expect(JSON.parse(me.body)).to.include({ name: user });
        expect(JSON.parse(me.body).tags).to.deep.equal(["administrator"]);
        expect((await rabbit.api("/api/whoami", user, "wrong")).status).to.equal(401);
        expect((await rabbit.api("/api/whoami", "guest", "guest")).status).to.equal(401);
      });

      it("serves Prometheus metrics on the rendered metrics port, memory limit included", async () => {
        const m = await httpGet(rabbit.ports.prometheus, "/metrics");
        expect(m.status).to.equal(200);
        expect(m.headers["content-type"]).to.match(/^text\/plain/);
        const total = Number(setting(r.conf, "total_memory_available_override_value"));
        const limit = Math.floor(total * Number(setting(r.conf, "vm_memory_high_watermark.relative")));
        expect(m.body).to.match(new RegExp(`^rabbitmq_resident_memory_limit_bytes ${limit}$`, "m"));
      });
    });
  }
});

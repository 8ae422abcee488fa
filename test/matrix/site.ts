import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import YAML from "yaml";
import { PostgresBinaries, ensurePostgres } from "../e2e/postgres";
import { Clamd, rendered as renderedClamd } from "../conformance/clamav/clamd";
import { backendsOf, localize } from "../conformance/haproxy/localize";
import {
  Running,
  containerEnv,
  ensureProgram,
  expand,
  fileOf,
  find,
  httpRequest,
  scratchDir,
  versionOf,
  waitFor,
} from "../conformance/harness";
import {
  ImagePostgres,
  pgbouncerRewrites,
  podPostgres,
  startPgBouncer,
  step,
} from "../conformance/postgres/image";
import { Pod, WrittenPod, synapsePods, writePod } from "../conformance/synapse/pods";
import { Recorded } from "../unit/harness";
import { LocalNetwork, localizeSynapseConfig } from "./localize";

/*
 * The dev stack's Matrix platform run for real on 127.0.0.1 from what the program renders: PostgreSQL (the
 * image's first start with the rendered init scripts), PgBouncer, the two Redis, clamd (test signatures),
 * Synapse main and every dev worker pod with their rendered commands, files and Secrets, HAProxy with the
 * generated routing, and the antivirus scan worker. Only listen addresses, peer host names and file paths
 * are rewritten; `rewrites` lists every one made.
 */

/** Ports handed out by `reservePort` (never twice in a run). */
const reserved = new Set<number>();

/**
 * A port on 127.0.0.1 below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), so that
 * the many outgoing connections of processes started earlier cannot take a port reserved for a later one,
 * and never the same one twice (freePort can return a port again once it is closed).
 */
export async function reservePort(): Promise<number> {
  const low = Number(
    fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0],
  );
  const [from, to] = [Math.max(1024, low - 12000), low];
  for (let tries = 0; tries < 1000; tries++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (reserved.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (!free) continue;
    reserved.add(port);
    return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}

/** A Redis StatefulSet of the Matrix namespace, run by the real redis-server on its rendered arguments. */
async function startRedis(res: Recorded[], statefulSet: string, program: string, dir: string) {
  const ss = res.find(
    (r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.inputs.metadata?.name === statefulSet,
  )!;
  const container = ss.inputs.spec.template.spec.containers[0];
  const env = containerEnv(res, "matrix", container);
  const args = (container.args as string[]).map((a) => expand(a, env));
  const data = args.indexOf("--dir");
  expect(args[data + 1]).to.equal("/data");
  args[data + 1] = dir;
  const port = await reservePort();
  const proc = new Running(program, [...args, "--port", String(port), "--bind", "127.0.0.1"]);
  return { port, proc, password: env.REDIS_PASSWORD };
}

/** One running Synapse pod. */
export interface SynapseProcess {
  pod: Pod;
  written: WrittenPod;
  proc: Running;
  /** The app (`synapse.app.homeserver`, `synapse.app.generic_worker`, …). */
  app: string;
}

export interface SiteOptions {
  /** The venv python of the Synapse to run. @default the pin (scripts/conformance/ensure.sh synapse) */
  synapsePython?: string;
}

export class MatrixSite {
  readonly rewrites: string[] = [];
  readonly versions: string[] = [];
  readonly scratch = scratchDir("matrix");
  res: Recorded[] = [];
  bin!: PostgresBinaries;
  postgres!: ImagePostgres;
  pgbouncer?: Running;
  redis?: { port: number; proc: Running; password: string };
  avRedis?: { port: number; proc: Running; password: string };
  clamd?: Clamd;
  /** The lawful-intercept PostgreSQL, once started (startLawfulIntercept). */
  li?: ImagePostgres;
  haproxy?: Running;
  scanWorker?: Running;
  synapse: SynapseProcess[] = [];
  httpPort = 0;
  statsPort = 0;
  private ports = new Map<string, number>();
  private redisProgram = "";
  private readonly knownStreams = new Map<string, string[]>();
  private python = "";

  constructor(readonly opts: SiteOptions = {}) {}

  /** The local port of a pod's rendered container port (allocated on first use). */
  async allocate(pod: string, rendered: number): Promise<number> {
    const key = `${pod}:${rendered}`;
    if (!this.ports.has(key)) this.ports.set(key, await reservePort());
    return this.ports.get(key)!;
  }

  network(): LocalNetwork {
    return {
      port: (pod, rendered) => {
        const p = this.ports.get(`${pod}:${rendered}`);
        if (p === undefined) throw new Error(`no local port for ${pod}:${rendered}`);
        return p;
      },
      peers: {
        pgbouncer: this.bouncerPort,
        "synapse-redis": this.redis!.port,
        "av-redis": this.avRedis!.port,
        clamav: this.clamd!.port,
        ...(this.li ? { "synapse-li-postgres": this.li.port } : {}),
      },
    };
  }

  bouncerPort = 0;

  async start(res: Recorded[]): Promise<void> {
    this.res = res;
    this.bin = ensurePostgres();
    this.python = this.opts.synapsePython ?? ensureProgram("synapse");
    const programs = {
      pgbouncer: ensureProgram("pgbouncer"),
      redis: ensureProgram("redis-server"),
      clamd: ensureProgram("clamd"),
      haproxy: ensureProgram("haproxy"),
    };
    this.versions.push(
      `PostgreSQL ${versionOf(path.join(this.bin.server, "postgres"), ["--version"])}`,
      `PgBouncer ${versionOf(programs.pgbouncer, ["--version"])}`,
      `Redis ${versionOf(programs.redis, ["--version"])}`,
      `HAProxy ${versionOf(programs.haproxy, ["-v"])}`,
      `Synapse ${versionOf(this.python, ["-c", "import synapse, sys; print(synapse.__version__, 'on Python', sys.version.split()[0])"])}`,
    );
    this.redisProgram = programs.redis;
    await this.startData(programs);
    await this.startSynapse();
    await this.startHaproxy(programs.haproxy);
    await this.startScanWorker();
  }

  private async startData(programs: Record<string, string>): Promise<void> {
    let done = step("PostgreSQL (the image's first start with the rendered init scripts)");
    this.postgres = new ImagePostgres(this.bin, podPostgres(this.res, "matrix-postgres"), "matrix");
    await this.postgres.start();
    done();
    this.bouncerPort = await reservePort();
    const bouncerDir = path.join(this.scratch, "pgbouncer");
    fs.mkdirSync(bouncerDir);
    this.pgbouncer = startPgBouncer(
      this.res,
      programs.pgbouncer,
      { server: this.postgres.port, listen: this.bouncerPort },
      bouncerDir,
    );
    this.rewrites.push(pgbouncerRewrites);
    for (const [name, key] of [
      ["synapse-redis", "redis"],
      ["av-redis", "avRedis"],
    ] as const) {
      const dir = path.join(this.scratch, name);
      fs.mkdirSync(dir);
      this[key] = await startRedis(this.res, name, programs.redis, dir);
      this.rewrites.push(`${name}: --dir /data → <scratch>/${name}; + --port <free port> --bind 127.0.0.1`);
    }
    done = step("clamd (rendered clamd.conf, test signature database)");
    this.clamd = new Clamd(renderedClamd(this.res), programs.clamd);
    await this.clamd.prepare();
    this.clamd.start();
    await waitFor("clamd answers PING", () => this.clamd!.ping().status === 0, 120_000, this.clamd.running());
    done();
    this.rewrites.push(
      "clamd.conf: DatabaseDirectory, TemporaryDirectory, LocalSocket, PidFile → <scratch>; TCPSocket → <free port>, " +
        "TCPAddr 127.0.0.1 (test/conformance/clamav/clamd.ts; signatures: a test body signature only)",
    );
  }

  /** Main first (it migrates the schema), then every worker pod at once. */
  private async startSynapse(): Promise<void> {
    const pods = synapsePods(this.res).filter((p) => p.namespace === "matrix");
    for (const pod of pods) {
      const ss = find(this.res, "StatefulSet", new RegExp(`^matrix-${pod.statefulSet}$`));
      for (const p of ss.inputs.spec.template.spec.containers[0].ports ?? [])
        await this.allocate(pod.pod, p.containerPort);
    }
    const main = pods.find((p) => p.pod === "synapse-main-0")!;
    let done = step(`Synapse main on ${this.python} (runs the schema migrations)`);
    await this.startPod(main);
    done();
    done = step(`${pods.length - 1} Synapse worker pods`);
    await Promise.all(pods.filter((p) => p !== main).map((p) => this.startPod(p)));
    done();
  }

  /** The health listener's local port of a pod. */
  healthPort(pod: string): number {
    return this.network().port(pod, 8080);
  }

  /** Waits until HAProxy's health checks have every backend's server UP (as after a rollout). */
  async serversUp(): Promise<void> {
    const cfg = fileOf(this.res, "ConfigMap", /^matrix-haproxy-config$/, "haproxy.cfg");
    const servers = backendsOf(cfg);
    await waitFor(
      "every HAProxy backend has its server UP",
      async () => {
        const csv = await httpRequest(this.statsPort, "/stats;csv").catch(() => undefined);
        if (!csv) return false;
        const rows = csv.body.split("\n").filter((l) => /^synapse-[a-z-]+,[a-z-]+\d+,/.test(l));
        return rows.length === servers.length && rows.every((r) => r.split(",")[17] === "UP");
      },
      60_000,
      this.haproxy,
    );
  }

  /** Writes a pod (localized) and starts its container command; resolves once it answers /health. */
  async startPod(pod: Pod): Promise<SynapseProcess> {
    // Every listener the pod's files name gets a port (workers also see main's `listeners`, unused by them).
    for (const m of pod.mounts.filter((x) => x.mountPath === "/conf"))
      for (const [name, text] of Object.entries(m.files))
        if (/\.ya?ml$/.test(name)) {
          const doc = YAML.parse(text);
          for (const l of [...(doc.listeners ?? []), ...(doc.worker_listeners ?? [])])
            await this.allocate(pod.pod, l.port);
        }
    const net = this.network();
    const written = writePod(this.scratch, pod, (file, text) => {
      if (!/^\/conf\/.*\.ya?ml$/.test(file)) return text;
      const doc = YAML.parse(text);
      const made = localizeSynapseConfig(doc, pod.pod, net);
      made.push(...this.dropUnknownStreams(doc));
      if (made.length === 0) return text;
      this.rewrites.push(...made.map((m) => `${pod.pod} ${file}: ${m}`));
      return YAML.stringify(doc, { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" });
    });
    this.rewrites.push(...written.applied.map((a) => `${pod.pod}: ${a}`));
    const shim = path.join(this.scratch, `bin-${path.basename(path.dirname(path.dirname(this.python)))}`);
    if (!fs.existsSync(shim)) {
      fs.mkdirSync(shim);
      fs.writeFileSync(path.join(shim, "python"), `#!/bin/sh\nexec "${this.python}" "$@"\n`, { mode: 0o755 });
      this.rewrites.push(`\`python\` → ${this.python} (a shell shim first on PATH)`);
    }
    const env = { ...written.env, PATH: `${shim}:/usr/bin:/bin` };
    const app = /-m (synapse\.app\.[a-z_]+)/.exec(written.command.join(" "))![1];
    const proc = new Running(written.command[0], written.command.slice(1), { env, cwd: written.podRoot });
    const started = { pod, written, proc, app };
    this.synapse = [...this.synapse.filter((s) => s.pod.pod !== pod.pod), started];
    await waitFor(
      `${pod.pod} answers /health`,
      async () =>
        (await httpRequest(this.healthPort(pod.pod), "/health").catch(() => undefined))?.status === 200,
      300_000,
      proc,
    );
    return started;
  }

  /**
   * An upgrade as the StatefulSets roll it: every Synapse pod of the Matrix namespace stops, then main starts
   * on `python`'s Synapse (running its migrations) and the workers after it.
   */
  async upgradeSynapse(python: string): Promise<void> {
    const pods = this.synapse.filter((s) => s.pod.namespace === "matrix").map((s) => s.pod);
    await Promise.all(this.synapse.filter((s) => s.pod.namespace === "matrix").map((s) => s.proc.stop()));
    this.python = python;
    const main = pods.find((p) => p.pod === "synapse-main-0")!;
    let done = step(`Synapse main on ${python} (migrations)`);
    await this.startPod(main);
    done();
    done = step(`${pods.length - 1} worker pods on ${python}`);
    await Promise.all(pods.filter((p) => p !== main).map((p) => this.startPod(p)));
    done();
    done = step("HAProxy's health checks take every worker back (until then their routes fall back to main)");
    await this.serversUp();
    done();
  }

  /**
   * An older release (the upgrade run's first phase) refuses `stream_writers` keys it does not know (1.151 has no
   * `quarantined_media_changes`): they are dropped, as the config its pin rendered had none.
   */
  private dropUnknownStreams(doc: any): string[] {
    if (!doc.stream_writers) return [];
    const known = this.knownStreams.get(this.python) ?? this.streamsOf(this.python);
    this.knownStreams.set(this.python, known);
    const unknown = Object.keys(doc.stream_writers).filter((s) => !known.includes(s));
    for (const s of unknown) delete doc.stream_writers[s];
    return unknown.map(
      (s) =>
        `stream_writers.${s}: dropped (unknown to ${path.basename(path.dirname(path.dirname(this.python)))})`,
    );
  }

  /** The stream names a Synapse's `stream_writers` accepts (asked once per release, not per file). */
  private streamsOf(python: string): string[] {
    const r = spawnSync(
      python,
      [
        "-c",
        "import attr; from synapse.config.workers import WriterLocations as W; print(*[f.name for f in attr.fields(W)])",
      ],
      { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`Synapse's stream names: ${r.stderr}`);
    return r.stdout.trim().split(" ");
  }

  /** The python of the Synapse the pods run now. */
  get synapsePython(): string {
    return this.python;
  }

  private async startHaproxy(program: string): Promise<void> {
    const cfg = fileOf(this.res, "ConfigMap", /^matrix-haproxy-config$/, "haproxy.cfg");
    const net = this.network();
    const servers = new Map(
      backendsOf(cfg).map((b) => [b, { port: net.port(`${b}-0`, 8008), check: net.port(`${b}-0`, 8080) }]),
    );
    this.httpPort = await reservePort();
    this.statsPort = await reservePort();
    const local = localize(cfg, { http: this.httpPort, stats: this.statsPort }, servers);
    this.rewrites.push(...local.rewrites.map((r) => `haproxy.cfg: ${r}`));
    const file = path.join(this.scratch, "haproxy.cfg");
    fs.writeFileSync(file, local.text);
    const container = find(this.res, "Deployment", /^matrix-haproxy$/).inputs.spec.template.spec
      .containers[0];
    const args = (container.command as string[])
      .slice(1)
      .map((a) => (a === "/usr/local/etc/haproxy/haproxy.cfg" ? file : a));
    this.rewrites.push(`haproxy: /usr/local/etc/haproxy/haproxy.cfg → <scratch>/haproxy.cfg`);
    this.haproxy = new Running(program, args);
    await this.serversUp();
  }

  /** The rendered av-scan-worker Deployment's command and env, with its peers on 127.0.0.1. */
  private async startScanWorker(): Promise<void> {
    const d = find(this.res, "Deployment", /^matrix-av-scan-worker$/);
    const container = d.inputs.spec.template.spec.containers[0];
    const env = containerEnv(this.res, "matrix", container, { "metadata.name": "av-scan-worker-0" });
    const script = fileOf(this.res, "ConfigMap", /^matrix-av-scan-worker-script$/, "av_scan_worker.py");
    const dir = path.join(this.scratch, "av-scan-worker");
    fs.mkdirSync(path.join(dir, "opt/keel"), { recursive: true });
    fs.writeFileSync(path.join(dir, "opt/keel/av_scan_worker.py"), script);
    const net = this.network();
    const peers: Record<string, [string, string]> = {
      AV_REDIS_HOST: ["av-redis", "127.0.0.1"],
      AV_REDIS_PORT: ["6379", String(this.avRedis!.port)],
      AV_CLAMD_HOST: ["clamav", "127.0.0.1"],
      AV_CLAMD_PORT: ["3310", String(this.clamd!.port)],
      AV_SYNAPSE_MEDIA_URL: [
        "http://synapse-media-repository:8008",
        `http://127.0.0.1:${net.port("synapse-media-repository-0", 8008)}`,
      ],
      AV_SYNAPSE_ADMIN_URL: [
        "http://synapse-main:8008",
        `http://127.0.0.1:${net.port("synapse-main-0", 8008)}`,
      ],
      AV_HEALTH_PORT: ["8080", String(await reservePort())],
    };
    for (const [k, [from, to]] of Object.entries(peers)) {
      expect(env[k], k).to.equal(from);
      env[k] = to;
      this.rewrites.push(`av-scan-worker env ${k}: ${from} → ${to}`);
    }
    const args = (container.command as string[]).map((a) =>
      a === "/opt/keel/av_scan_worker.py" ? path.join(dir, "opt/keel/av_scan_worker.py") : a,
    );
    this.rewrites.push("av-scan-worker: /opt/keel/av_scan_worker.py → <scratch>; python3 is the host's");
    this.scanWorker = new Running(args[0], args.slice(1), { env: { ...env, PATH: "/usr/bin:/bin" } });
  }

  /** A redis-cli command on the antivirus queue's Redis (av-redis), its reply as text. */
  avQueue(...args: string[]): string {
    const cli = path.join(path.dirname(this.redisProgram), "redis-cli");
    const r = spawnSync(cli, ["-p", String(this.avRedis!.port), "--no-auth-warning", ...args], {
      encoding: "utf8",
      env: { ...process.env, REDISCLI_AUTH: this.avRedis!.password },
    });
    if (r.status !== 0) throw new Error(`redis-cli ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** The site's processes by name (the Synapse ones by pod). */
  private processes(): [string, Running | undefined][] {
    return [
      ["haproxy", this.haproxy],
      ["pgbouncer", this.pgbouncer],
      ["av-scan-worker", this.scanWorker],
      ["clamd", this.clamd?.running()],
      ...this.synapse.map((s) => [s.pod.pod, s.proc] as [string, Running]),
    ];
  }

  /** The end of what every process printed, for a failure's message. */
  logs(): string {
    return this.processes()
      .map(([n, p]) => `---- ${n}\n${(p?.output() ?? "").slice(-4000)}`)
      .join("\n");
  }

  /** Every process's whole output into <scratch>/logs/<process>.log (kept when a test failed). */
  saveLogs(): string {
    const dir = path.join(this.scratch, "logs");
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, p] of this.processes())
      if (p) fs.writeFileSync(path.join(dir, `${name}.log`), p.output());
    fs.writeFileSync(path.join(dir, "postgres.log"), this.postgres?.output() ?? "");
    fs.writeFileSync(path.join(dir, "li-postgres.log"), this.li?.output() ?? "");
    return dir;
  }

  async stop(): Promise<void> {
    await this.scanWorker?.stop();
    await this.haproxy?.stop();
    await Promise.all(this.synapse.map((s) => s.proc.stop()));
    await this.pgbouncer?.stop();
    await this.postgres?.stop();
    await this.li?.stop();
    await this.redis?.proc.stop();
    await this.avRedis?.proc.stop();
    await this.clamd?.stop();
  }

  cleanup(): void {
    fs.rmSync(this.scratch, { recursive: true, force: true });
    for (const pg of [this.postgres, this.li]) if (pg) fs.rmSync(pg.dir, { recursive: true, force: true });
  }
}

import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { PostgresBinaries, asPostgresUser, freePort } from "../../e2e/postgres";
import { Recorded } from "../../unit/harness";
import { Running, containerEnv, dataOf, fileOf, find, objectIn, root, scratchDir, waitFor } from "../harness";

/*
 * The Matrix PostgreSQL and PgBouncer as the program renders them, run for real on 127.0.0.1: the official
 * image's first-start contract (entrypoint-init.sh) and the rendered pgbouncer.ini. Shared by the conformance
 * suite (postgres.spec.ts) and the Matrix end-to-end test (test/matrix).
 */

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end without blocking the event loop (the servers' output keeps flowing). */
export function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout!.on("data", (d) => (stdout += d));
    p.stderr!.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
    if (input !== undefined) {
      // A program that exits without reading its input (psql refused at login) closes the pipe: its status tells.
      p.stdin!.on("error", () => undefined);
      p.stdin!.end(input);
    }
  });
}

export function step(what: string): () => void {
  const started = Date.now();
  process.stderr.write(`      … ${what}\n`);
  return () => process.stderr.write(`        (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

export function secretValue(res: Recorded[], namespace: string, name: string, key: string): string {
  const text = dataOf(objectIn(res, "Secret", namespace, name))[key];
  if (typeof text !== "string") throw new Error(`Secret ${namespace}/${name} has no ${key}`);
  return text;
}

export interface PodPostgres {
  namespace: string;
  args: string[];
  env: Record<string, string>;
  /** The files mounted at /docker-entrypoint-initdb.d and their mode. */
  initFiles: Record<string, string>;
  initMode: number;
}

export function podPostgres(res: Recorded[], statefulSet: string): PodPostgres {
  const ss = find(res, "StatefulSet", new RegExp(`^${statefulSet}$`));
  const namespace: string = ss.inputs.metadata.namespace;
  const pod = ss.inputs.spec.template.spec;
  const container = pod.containers[0];
  expect(container.command, "the image's entrypoint runs (no command override)").to.equal(undefined);
  const mount = (container.volumeMounts ?? []).find(
    (m: any) => m.mountPath === "/docker-entrypoint-initdb.d",
  );
  const volume = mount && pod.volumes.find((v: any) => v.name === mount.name);
  const configMap = volume?.configMap?.name;
  const initFiles = configMap
    ? res.find(
        (r) =>
          r.type === "kubernetes:core/v1:ConfigMap" &&
          r.inputs.metadata?.namespace === namespace &&
          r.inputs.metadata?.name === configMap,
      )?.inputs.data
    : {};
  return {
    namespace,
    args: container.args,
    env: containerEnv(res, namespace, container),
    initFiles: initFiles ?? {},
    initMode: volume?.configMap?.defaultMode ?? 0o644,
  };
}

export interface Conn {
  port: number;
  user: string;
  password: string;
  database: string;
}

export class ImagePostgres {
  readonly dir: string;
  readonly data: string;
  readonly sockets: string;
  port = 0;
  initLog = "";
  private server?: Running;

  constructor(
    readonly bin: PostgresBinaries,
    readonly pod: PodPostgres,
    label: string,
  ) {
    this.dir = scratchDir(`pg-${label}`);
    this.data = path.join(this.dir, "data/pgdata");
    this.sockets = path.join(this.dir, "run");
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: `${this.bin.server}:${this.bin.client}:${process.env.PATH}`,
      LANG: "C.UTF-8",
      ...this.pod.env,
      PGDATA: this.data,
      ...extra,
    };
  }

  get initdbDir(): string {
    return path.join(this.dir, "initdb");
  }

  /** The entrypoint's first start, then `postgres` with the rendered arguments (+ the address rewrites). */
  async start(): Promise<void> {
    fs.mkdirSync(this.sockets, { recursive: true });
    fs.mkdirSync(this.initdbDir);
    for (const [name, text] of Object.entries(this.pod.initFiles)) {
      fs.writeFileSync(path.join(this.initdbDir, name), text, { mode: this.pod.initMode });
    }
    const socketArg = ["-c", `unix_socket_directories=${this.sockets}`];
    const script = path.join(root, "test/conformance/postgres/entrypoint-init.sh");
    const [cmd, args] = asPostgresUser("bash", [script, ...this.pod.args, ...socketArg]);
    const env = this.env({ KEEL_INITDB_DIR: this.initdbDir, KEEL_SOCKET_DIR: this.sockets });
    const init = await exec(cmd, args, env);
    this.initLog = init.stdout + init.stderr;
    if (init.status !== 0) throw new Error(`the entrypoint's first start failed:\n${this.initLog}`);
    this.dropLoopbackTrust();
    this.port = await freePort();
    const listen = ["-c", "listen_addresses=127.0.0.1", "-c", `port=${this.port}`];
    const [pcmd, pargs] = asPostgresUser(path.join(this.bin.server, "postgres"), [
      ...this.pod.args,
      ...socketArg,
      ...listen,
    ]);
    this.server = new Running(pcmd, pargs, { env: this.env() });
    await waitFor("PostgreSQL accepts connections", () => this.ready(), 60_000, this.server);
  }

  private dropLoopbackTrust(): void {
    const hba = path.join(this.data, "pg_hba.conf");
    const lines = fs.readFileSync(hba, "utf8").split("\n");
    const kept = lines.filter((l) => !/^host\s+.*\s(127\.0\.0\.1\/32|::1\/128)\s+trust\s*$/.test(l));
    expect(lines.length - kept.length, "initdb's loopback trust lines").to.equal(4);
    fs.writeFileSync(hba, kept.join("\n"));
  }

  private async ready(): Promise<boolean> {
    const r = await exec(
      path.join(this.bin.client, "pg_isready"),
      ["-h", "127.0.0.1", "-p", String(this.port)],
      {},
    );
    return r.status === 0;
  }

  superuser(database = this.pod.env.POSTGRES_DB): Conn {
    return {
      port: this.port,
      user: this.pod.env.POSTGRES_USER,
      password: this.pod.env.POSTGRES_PASSWORD,
      database,
    };
  }

  output(): string {
    return this.server?.output() ?? "";
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    // The image's STOPSIGNAL is SIGINT: a fast shutdown.
    if (!this.server.exited() && this.server.proc.pid) process.kill(this.server.proc.pid, "SIGINT");
    await waitFor("PostgreSQL stops", () => this.server!.exited(), 30_000).catch(() => undefined);
    await this.server.stop();
  }
}

export function psqlRun(bin: PostgresBinaries, c: Conn, sql: string): Promise<Run> {
  const env = {
    PATH: process.env.PATH,
    LANG: "C.UTF-8",
    PGHOST: "127.0.0.1",
    PGPORT: String(c.port),
    PGUSER: c.user,
    PGPASSWORD: c.password,
    PGDATABASE: c.database,
    PGCONNECT_TIMEOUT: "10",
  };
  const args = ["--no-psqlrc", "--no-align", "--tuples-only", "--quiet", "--set", "ON_ERROR_STOP=1"];
  return exec(path.join(bin.client, "psql"), args, env, sql);
}

export async function query(bin: PostgresBinaries, c: Conn, sql: string): Promise<string> {
  const r = await psqlRun(bin, c, sql);
  if (r.status !== 0) throw new Error(`psql as ${c.user} on port ${c.port} failed:\n${r.stderr}`);
  return r.stdout.replace(/\n$/, "");
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** The rendered pgbouncer.ini's rewrites (printed by the suites that run it). */
export const pgbouncerRewrites =
  "pgbouncer.ini: host=synapse-postgres port=5432 → 127.0.0.1:<server port>; listen_addr 0.0.0.0 → 127.0.0.1; " +
  "listen_port 5432 → <free port>; auth_file /etc/pgbouncer/auth/userlist.txt → <scratch>/auth/userlist.txt";

/** The real PgBouncer on the rendered pgbouncer.ini and userlist, in front of `serverPort`, on `listenPort`. */
export function startPgBouncer(
  res: Recorded[],
  program: string,
  ports: { server: number; listen: number },
  dir: string,
): Running {
  const ini = fileOf(res, "ConfigMap", /^matrix-pgbouncer-config$/, "pgbouncer.ini");
  const auth = path.join(dir, "auth/userlist.txt");
  fs.mkdirSync(path.dirname(auth), { recursive: true });
  fs.writeFileSync(auth, secretValue(res, "matrix", "pgbouncer-auth", "userlist.txt"), { mode: 0o600 });
  const rewritten = [
    [/host=synapse-postgres port=5432/, `host=127.0.0.1 port=${ports.server}`],
    [/^listen_addr = 0\.0\.0\.0$/m, "listen_addr = 127.0.0.1"],
    [/^listen_port = 5432$/m, `listen_port = ${ports.listen}`],
    [/^auth_file = \/etc\/pgbouncer\/auth\/userlist\.txt$/m, `auth_file = ${auth}`],
  ].reduce((text, [from, to]) => {
    expect(text, `pgbouncer.ini has ${from}`).to.match(from as RegExp);
    return text.replace(from, to as string);
  }, ini);
  fs.writeFileSync(path.join(dir, "pgbouncer.ini"), rewritten);
  const [cmd, args] = asPostgresUser(program, [path.join(dir, "pgbouncer.ini")]);
  return new Running(cmd, args);
}

import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

import { Run, must, root, run, tempDir } from "./harness";

/** Directories with the PostgreSQL server programs and with pg_dump/psql, from scripts/postgres/ensure.sh. */
export interface PostgresBinaries {
  server: string;
  client: string;
}

/** Finds or installs PostgreSQL (see scripts/postgres/ensure.sh); its progress is shown as it happens. */
export function ensurePostgres(): PostgresBinaries {
  const script =
    'out=$(bash scripts/postgres/ensure.sh) || exit 1; eval "$out"; printf "%s\\n" "$PG_SERVER_BIN" "$PG_CLIENT_BIN"';
  const r = spawnSync("bash", ["-c", script], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [server, client] = r.stdout.split("\n");
  if (r.status !== 0 || !server || !client) {
    throw new Error(`scripts/postgres/ensure.sh failed (see the output above):\n${r.stdout}`);
  }
  return { server, client };
}

/**
 * PostgreSQL refuses to run as root. As root, commands run in a user namespace where we are `nobody`
 * (uid/gid 65534, a user that exists everywhere; initdb looks its name up), like the image runs as its
 * unprivileged postgres user; files keep their real owner, so the test reads everything the server and the
 * scripts write. As any other user commands run as they are.
 */
export function asPostgresUser(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, args];
  return ["unshare", ["--user", "--map-user=65534", "--map-group=65534", "--", cmd, ...args]];
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface LocalPostgresOptions {
  /** The bootstrap superuser, as POSTGRES_USER in the official image (which makes it the superuser). */
  user: string;
  /** Arguments for initdb, as POSTGRES_INITDB_ARGS. */
  initdbArgs: string[];
}

/**
 * A throw-away PostgreSQL server on 127.0.0.1 and a free port, with password authentication (SCRAM) for
 * every connection and a generated password, like the image configures.
 */
export class LocalPostgres {
  readonly dir = tempDir("keel-pg-");
  readonly password = randomBytes(24).toString("base64url");
  readonly host = "127.0.0.1";
  port = 0;
  private readonly data = path.join(this.dir, "data");
  private readonly log = path.join(this.dir, "server.log");
  private started = false;

  constructor(
    readonly bin: PostgresBinaries,
    readonly opts: LocalPostgresOptions,
  ) {}

  private exec(program: string, args: string[], env: NodeJS.ProcessEnv = process.env): Run {
    const [cmd, all] = asPostgresUser(path.join(this.bin.server, program), args);
    return must(env, cmd, all);
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const pwfile = path.join(this.dir, "pwfile");
    fs.writeFileSync(pwfile, `${this.password}\n`, { mode: 0o600 });
    const sockets = path.join(this.dir, "sockets");
    fs.mkdirSync(sockets);
    this.exec("initdb", [
      "--pgdata",
      this.data,
      "--username",
      this.opts.user,
      "--pwfile",
      pwfile,
      "--auth",
      "scram-sha-256",
      ...this.opts.initdbArgs,
    ]);
    fs.rmSync(pwfile);
    const settings = [
      `-c listen_addresses=${this.host}`,
      `-c port=${this.port}`,
      `-c unix_socket_directories=${sockets}`,
      // Durability is not under test; the shared machine's disk is.
      "-c fsync=off",
    ].join(" ");
    this.exec("pg_ctl", ["start", "--wait", "--pgdata", this.data, "--log", this.log, "-o", settings]);
    this.started = true;
  }

  /** Stops the server (fast shutdown); safe to call when it never started. */
  stop(): void {
    if (!this.started) return;
    const [cmd, args] = asPostgresUser(path.join(this.bin.server, "pg_ctl"), [
      "stop",
      "--wait",
      "--mode",
      "fast",
      "--pgdata",
      this.data,
    ]);
    const r = run(process.env, cmd, args);
    if (r.status !== 0) {
      // The postmaster we started (its pid file is in our data directory) is killed outright.
      const pid = Number(fs.readFileSync(path.join(this.data, "postmaster.pid"), "utf8").split("\n")[0]);
      if (pid > 0) process.kill(pid, "SIGKILL");
    }
    this.started = false;
  }

  /** Removes the data directory and everything else the server wrote. */
  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  serverLog(): string {
    return fs.existsSync(this.log) ? fs.readFileSync(this.log, "utf8") : "";
  }

  /**
   * The environment the backup CronJob's container gets (RETAIN, SERVER, PGHOST, PGDATABASE, PGUSER,
   * PGPASSWORD), pointed at this server: PGHOST/PGPORT are this server's instead of the Service's, and
   * BACKUP_DIR replaces the volume mounted at /backups. PATH leads to the pinned pg_dump and psql.
   */
  clientEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
    return {
      PATH: `${this.bin.client}:${process.env.PATH}`,
      LANG: "C.UTF-8",
      PGHOST: this.host,
      PGPORT: String(this.port),
      PGUSER: this.opts.user,
      PGPASSWORD: this.password,
      ...vars,
    };
  }

  /** Runs SQL with psql (unaligned, tuples only, stops at the first error) and returns its output. */
  sql(database: string, sql: string): string {
    const env = this.clientEnv({ PGDATABASE: database, PGCLIENTENCODING: "UTF8" });
    const args = ["--no-psqlrc", "--no-align", "--tuples-only", "--set", "ON_ERROR_STOP=1", "--quiet"];
    return must(env, path.join(this.bin.client, "psql"), args, { input: sql }).stdout.replace(/\n$/, "");
  }
}

/**
 * Runs a bash script as the CronJob's container does (`bash -c <script>`), as the postgres image's user;
 * `label` stands for the script in the progress line.
 */
export function runScript(env: NodeJS.ProcessEnv, label: string, script: string): Run {
  const [cmd, args] = asPostgresUser("bash", ["-c", script]);
  const started = Date.now();
  process.stderr.write(`      $ bash -c <${label}>\n`);
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: "utf8" });
  process.stderr.write(`        (${((Date.now() - started) / 1000).toFixed(1)} s, exit ${r.status})\n`);
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

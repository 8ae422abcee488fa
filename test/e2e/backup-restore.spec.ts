import { postgresBackupScript, postgresRestoreScript } from "@keel/core";
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";

import { tempDir } from "./harness";
import { LocalPostgres, ensurePostgres, runScript } from "./postgres";

// The restore drill of the deployed scripts (postgresBackupScript/postgresRestoreScript from @keel/core, the
// text the CronJob runs) against a real PostgreSQL of the image's major version on 127.0.0.1: back up with
// retention, wipe, restore, data present; failed dumps and damaged dumps change nothing. No cluster needed:
// the local cluster runs no containers, so the drill runs the scripts here, with the container's variables.
describe("PostgreSQL backup and restore drill (the CronJob's scripts against a real PostgreSQL, no cluster)", function () {
  this.timeout(15 * 60 * 1000);
  const db = "synapse";
  /** A second database on the same server, owned by its own role, as Keycloak's in the AI core. */
  const extra = "keycloak";
  const retain = 3;
  const runs = retain + 2;
  const text = "Grüße, Zoë — Ελληνικά, 日本語, emoji 🚀";
  let pg: LocalPostgres | undefined;
  let backups: string;
  let scratch: string;
  let written: string[] = [];

  const server = () => pg!;
  /** The CronJob container's environment (see ScheduledBackup), pointed at the local server. */
  const jobEnv = (extra: Record<string, string> = {}) =>
    server().clientEnv({
      RETAIN: String(retain),
      SERVER: "postgres",
      PGDATABASE: db,
      BACKUP_DIR: backups,
      ...extra,
    });
  const backup = (extra: Record<string, string> = {}) =>
    runScript(jobEnv(extra), "postgresBackupScript()", postgresBackupScript());
  const restore = (extra: Record<string, string> = {}) =>
    runScript(jobEnv(extra), "postgresRestoreScript()", postgresRestoreScript());
  const listing = () => fs.readdirSync(backups).sort();
  const dumps = () => listing().filter((f) => f.endsWith(".sql.gz"));
  const publicTables = () => server().sql(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
  const dumpText = (file: string) => zlib.gunzipSync(fs.readFileSync(file)).toString("utf8");

  /** Drops the database and creates it empty, as the restore procedure does (docs/backup-restore.md). */
  const wipe = () =>
    server().sql(
      "postgres",
      [
        `DROP DATABASE ${db} WITH (FORCE);`,
        `CREATE DATABASE ${db} OWNER ${db} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;`,
      ].join("\n"),
    );

  before(async () => {
    const bin = ensurePostgres();
    pg = new LocalPostgres(bin, {
      user: db,
      // Synapse's database: what the Matrix platform passes as initdbArgs (POSTGRES_INITDB_ARGS).
      initdbArgs: ["--encoding=UTF8", "--lc-collate=C", "--lc-ctype=C"],
    });
    await pg.start();
    // The official image creates POSTGRES_DB owned by POSTGRES_USER on first start.
    pg.sql("postgres", `CREATE DATABASE ${db} OWNER ${db};`);
    backups = tempDir("keel-backups-");
    scratch = tempDir("keel-restore-scratch-");
  });

  let failed = false;
  afterEach(function () {
    if (this.currentTest?.state === "failed") failed = true;
  });

  after(() => {
    if (failed && pg) {
      process.stderr.write(`      server log:\n${pg.serverLog().slice(-4000)}\n`);
    }
    pg?.stop();
    pg?.remove();
    for (const dir of [backups, scratch]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runs the image's PostgreSQL major on both sides, Synapse's encoding and collation", () => {
    const version = server().sql(db, "SHOW server_version");
    expect(version).to.match(/^17\./);
    expect(
      server().sql(
        db,
        "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = current_database()",
      ),
    ).to.equal("UTF8|C|C");
  });

  it("writes data: tables with rows, sequences advanced past 1, non-ASCII UTF-8 text", () => {
    server().sql(
      db,
      `
      CREATE TABLE rooms (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE);
      CREATE TABLE events (
        id bigserial PRIMARY KEY,
        room_id bigint NOT NULL REFERENCES rooms (id),
        body text NOT NULL
      );
      CREATE INDEX events_room ON events (room_id);
      CREATE SEQUENCE stream_ordering;
      CREATE TABLE drill_runs (run int PRIMARY KEY);
      INSERT INTO rooms (name) SELECT 'room-' || g FROM generate_series(1, 20) g;
      INSERT INTO events (room_id, body) SELECT 1 + g % 20, 'event ' || g FROM generate_series(1, 5000) g;
      INSERT INTO events (room_id, body) VALUES (1, '${text}');
      SELECT setval('stream_ordering', 4242);
      `,
    );
    expect(server().sql(db, "SELECT count(*), max(id) FROM events")).to.equal("5001|5001");
    expect(server().sql(db, "SELECT body FROM events WHERE id = 5001")).to.equal(text);
  });

  it(`runs the backup script ${runs} times with RETAIN=${retain}: exactly the newest ${retain} complete dumps remain, no .partial`, async () => {
    written = [];
    for (let i = 1; i <= runs; i++) {
      // Marks which run a dump comes from; the restore below must bring back the newest.
      server().sql(db, `INSERT INTO drill_runs VALUES (${i});`);
      const r = backup();
      expect(r.status, r.stderr).to.equal(0);
      const m = /^backup (\S+) written; kept: (\d+)$/m.exec(r.stdout);
      expect(m, r.stdout).to.not.equal(null);
      written.push(path.basename(m![1]));
      expect(Number(m![2])).to.equal(Math.min(i, retain));
      // Dump names have a resolution of one second: start the next run in the next second.
      await new Promise((resolve) => setTimeout(resolve, 1050 - (Date.now() % 1000)));
    }
    expect(new Set(written).size).to.equal(runs);
    expect(listing()).to.deep.equal(written.slice(-retain).sort());
    for (const f of dumps()) {
      expect(f).to.match(new RegExp(`^${db}-\\d{8}T\\d{6}Z\\.sql\\.gz$`));
      const sql = dumpText(path.join(backups, f)); // throws on a damaged gzip stream
      expect(sql, f).to.match(/^-- PostgreSQL database dump complete$/m);
    }
    const newest = dumpText(path.join(backups, written[runs - 1]));
    expect(newest).to.include(text);
    expect(newest).to.match(/COPY public\.events /);
  });

  it("a failed dump (wrong password) exits non-zero and leaves no new file, not even a .partial", () => {
    const before = listing();
    const r = backup({ PGPASSWORD: `not-${server().password}` });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/password authentication failed/);
    expect(r.stdout).to.not.match(/written/);
    expect(listing()).to.deep.equal(before);
  });

  it("wipes the database: dropped and created empty with the same owner, encoding and collation", () => {
    wipe();
    expect(publicTables()).to.equal("0");
    expect(
      server().sql(
        db,
        "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = current_database()",
      ),
    ).to.equal(`${db}|UTF8|C`);
  });

  it("refuses a dump with an error in the middle and applies nothing (single transaction)", () => {
    // After the tables and the events' rows, before the rooms' rows: a statement that fails.
    const sql = dumpText(path.join(backups, written[runs - 1]));
    const at = sql.indexOf("COPY public.rooms ");
    expect(at).to.be.greaterThan(sql.indexOf("COPY public.events "));
    const broken = `${sql.slice(0, at)}this line is not SQL;\n${sql.slice(at)}`;
    const file = path.join(scratch, "error-in-the-middle.sql.gz");
    fs.writeFileSync(file, zlib.gzipSync(broken));
    const r = restore({ BACKUP_FILE: file });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/syntax error at or near "this"/);
    expect(publicTables()).to.equal("0");
  });

  it("refuses a dump whose gzip stream ends early (a truncated copy) and applies nothing", () => {
    const sql = dumpText(path.join(backups, written[runs - 1]));
    // Cut at a line boundary inside the events' COPY data, then drop the gzip trailer (CRC and length):
    // gunzip writes every line it has, then fails.
    const copy = sql.indexOf("COPY public.events ");
    const cut = sql.indexOf("\tevent 2500\n", copy) + "\tevent 2500\n".length;
    expect(copy).to.be.greaterThan(0);
    expect(cut).to.be.greaterThan(copy);
    const gz = zlib.gzipSync(sql.slice(0, cut));
    const file = path.join(scratch, "truncated-stream.sql.gz");
    fs.writeFileSync(file, gz.subarray(0, gz.length - 8));
    const r = restore({ BACKUP_FILE: file });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/damaged \(gunzip failed\); nothing restored/);
    expect(publicTables()).to.equal("0");
  });

  it("refuses a well-formed gzip of an incomplete dump (no 'dump complete' trailer) and applies nothing", () => {
    const sql = dumpText(path.join(backups, written[runs - 1]));
    const copy = sql.indexOf("COPY public.events ");
    const cut = sql.indexOf("\tevent 2500\n", copy) + "\tevent 2500\n".length;
    expect(cut).to.be.greaterThan(copy);
    const file = path.join(scratch, "incomplete-dump.sql.gz");
    fs.writeFileSync(file, zlib.gzipSync(sql.slice(0, cut)));
    const r = restore({ BACKUP_FILE: file });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/not a complete pg_dump dump/);
    expect(publicTables()).to.equal("0");
  });

  it("restores the newest dump into the fresh database: rows, sequence values and UTF-8 text are back", () => {
    const r = restore();
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`restoring ${path.join(backups, written[runs - 1])}`);
    expect(server().sql(db, "SELECT count(*), sum(id), count(DISTINCT room_id) FROM events")).to.equal(
      `5001|${(5001 * 5002) / 2}|20`,
    );
    expect(server().sql(db, "SELECT count(*) FROM rooms")).to.equal("20");
    expect(server().sql(db, "SELECT body, octet_length(body) FROM events WHERE id = 5001")).to.equal(
      `${text}|${Buffer.byteLength(text)}`,
    );
    expect(server().sql(db, "SELECT last_value, is_called FROM stream_ordering")).to.equal("4242|t");
    expect(server().sql(db, "SELECT nextval('stream_ordering'), nextval('events_id_seq')")).to.equal(
      "4243|5002",
    );
    expect(server().sql(db, "SELECT max(run) FROM drill_runs")).to.equal(String(runs));
    // Constraints and indexes came back too.
    expect(server().sql(db, "SELECT count(*) FROM pg_indexes WHERE tablename = 'events'")).to.equal("2");
    expect(() => server().sql(db, "INSERT INTO events (room_id, body) VALUES (999, 'x');")).to.throw(
      /foreign key/,
    );
  });

  it("refuses to restore over a database that still holds data, and changes nothing", () => {
    const r = restore();
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/already exists/);
    expect(server().sql(db, "SELECT count(*) FROM events")).to.equal("5001");
  });

  it("restores a chosen dump with BACKUP_FILE: the oldest kept one", () => {
    wipe();
    const oldest = path.join(backups, written[runs - retain]);
    const r = restore({ BACKUP_FILE: oldest });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`restoring ${oldest}`);
    expect(server().sql(db, "SELECT max(run) FROM drill_runs")).to.equal(String(runs - retain + 1));
    expect(server().sql(db, "SELECT count(*) FROM events")).to.equal("5001");
  });

  it("dumps an extra database (Keycloak's, owned by its own role) in the same run, each kept to RETAIN", () => {
    server().sql("postgres", `CREATE ROLE ${extra} LOGIN;\nCREATE DATABASE ${extra} OWNER ${extra};`);
    server().sql(
      extra,
      [
        `SET ROLE ${extra};`,
        "CREATE TABLE realm (id text PRIMARY KEY, name text NOT NULL);",
        `INSERT INTO realm VALUES ('master', '${text}');`,
      ].join("\n"),
    );
    const r = backup({ DATABASES: `${db} ${extra}` });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.match(/^backup \S+ written; kept: \d+$/gm)).to.have.length(2);
    expect(dumps().filter((f) => f.startsWith(`${db}-`))).to.have.length(retain);
    const ours = dumps().filter((f) => f.startsWith(`${extra}-`));
    expect(ours).to.have.length(1);
    expect(dumpText(path.join(backups, ours[0]))).to.match(/ALTER TABLE public\.realm OWNER TO keycloak;/);
  });

  it("restores the extra database, and a drill copy of it, with its tables owned by its role again", () => {
    server().sql(
      "postgres",
      `DROP DATABASE ${extra} WITH (FORCE);\nCREATE DATABASE ${extra} OWNER ${extra} TEMPLATE template0;\n` +
        `CREATE DATABASE ${extra}_drill OWNER ${extra} TEMPLATE template0;`,
    );
    for (const [into, env] of [
      [extra, { PGDATABASE: extra }],
      [`${extra}_drill`, { PGDATABASE: `${extra}_drill`, BACKUP_OF: extra }],
    ] as const) {
      const r = restore(env);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(new RegExp(`restoring \\S+/${extra}-\\d{8}T\\d{6}Z\\.sql\\.gz into ${into}`));
      expect(server().sql(into, "SELECT tableowner FROM pg_tables WHERE tablename = 'realm'")).to.equal(
        extra,
      );
      expect(server().sql(into, "SELECT name FROM realm WHERE id = 'master'")).to.equal(text);
    }
  });
});

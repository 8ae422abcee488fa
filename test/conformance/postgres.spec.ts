import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { PostgresBinaries, asPostgresUser, ensurePostgres } from "../e2e/postgres";
import { Recorded } from "../unit/harness";
import {
  Running,
  containerEnv,
  ensureProgram,
  fileOf,
  find,
  freePort,
  renderStack,
  scratchDir,
  versionOf,
  waitFor,
} from "./harness";
import {
  Conn,
  ImagePostgres,
  Run,
  exec,
  pgbouncerRewrites,
  podPostgres,
  portOpen,
  psqlRun,
  query,
  secretValue,
  startPgBouncer,
  step,
} from "./postgres/image";

/*
 * The Matrix platform's PostgreSQL as the dev stack renders it, run for real: the official image's first-start
 * contract (test/conformance/postgres/entrypoint-init.sh) with the rendered env, Secrets, init scripts and
 * arguments; the real PgBouncer with the rendered pgbouncer.ini; the real Synapse at the image's version
 * migrating its schema through them with the lawful-intercept (LI) publication in place; and the LI replica,
 * the rendered LI server with the rendered li-replication-setup job, receiving updates and deletes.
 *
 * What is rendered is used as rendered. Rewrites, and nothing else (printed with the versions):
 */
const rewrites = [
  "PGDATA /var/lib/postgresql/data/pgdata → <scratch>/data/pgdata",
  "/docker-entrypoint-initdb.d → <scratch>/initdb: the ConfigMap's files, with the volume's file mode",
  "/var/run/postgresql → <scratch>/run: -c unix_socket_directories=…, and PGHOST for the init scripts' psql",
  "listen_addresses '*' (the image's postgresql.conf.sample) → -c listen_addresses=127.0.0.1",
  "port 5432 → -c port=<free port> (the entrypoint's temporary server keeps 5432, on its private socket)",
  "LANG en_US.utf8 (the image's) → C.UTF-8, not installed here; collation and ctype come from POSTGRES_INITDB_ARGS",
  "pg_hba.conf: initdb's `host all all 127.0.0.1/32 trust` and `::1/128 trust` dropped: in the cluster clients " +
    "come from other pods, which only the entrypoint's `host all all all scram-sha-256` matches",
  "uid 999 / 998 (runAsUser) → 65534 in a user namespace when the suite runs as root",
  pgbouncerRewrites,
  "homeserver.yaml: database.args host pgbouncer → 127.0.0.1, port 5432 → PgBouncer's; signing_key_path " +
    "/secrets/signing/signing.key → <scratch>; kept: server_name, signing_key_path, trusted_key_servers, " +
    "report_stats, database (the rest names files and services that are not here)",
  "li-replication-setup: MAIN_HOST synapse-postgres.matrix.svc → 127.0.0.1 and the script's port=5432 → main's " +
    "port; PGHOST synapse-li-postgres → 127.0.0.1 with PGPORT=<LI port>; /tmp/ → <scratch>/",
];

// ---- what the program rendered ------------------------------------------------------------------------------

/** The `-c name=value` settings of a container's arguments. */
function settingsOf(args: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== "-c") continue;
    const [name, ...value] = args[++i].split("=");
    out.push([name, value.join("=")]);
  }
  return out;
}

/** Sizes as PostgreSQL prints them (SHOW work_mem → 3757kB, 1228MB may print as 1228MB): compared in kB. */
function sameSetting(shown: string, rendered: string): boolean {
  const kb = (s: string) => {
    const m = /^(\d+)\s*(kB|MB|GB|TB)$/.exec(s);
    return m ? Number(m[1]) * { kB: 1, MB: 1024, GB: 1024 ** 2, TB: 1024 ** 3 }[m[2] as "kB"] : undefined;
  };
  return shown === rendered || (kb(shown) !== undefined && kb(shown) === kb(rendered));
}

// ---- the suite ------------------------------------------------------------------------------------------------

describe("conformance: Matrix PostgreSQL 17, PgBouncer, Synapse's migrations and the LI replica (dev stack)", function () {
  const scratch: string[] = [];
  let res: Recorded[];
  let bin: PostgresBinaries;
  let main: ImagePostgres;
  let li: ImagePostgres;
  let bouncer: Running | undefined;
  let bouncerPort = 0;
  let synapsePython = "";
  let synapseVersion = "";

  before(async function () {
    res = await renderStack("dev");
    bin = ensurePostgres();
    synapsePython = ensureProgram("synapse");
    synapseVersion = find(res, "StatefulSet", /^matrix-synapse-main$/)
      .inputs.spec.template.spec.containers[0].image.split(":v")
      .pop();
    const pgbouncer = ensureProgram("pgbouncer");
    const synapse = await exec(synapsePython, ["-c", versionScript], {});
    const versions = [
      `PostgreSQL server: ${versionOf(path.join(bin.server, "postgres"), ["--version"])} (image docker.io/library/postgres:17.6-bookworm)`,
      `PostgreSQL client: ${versionOf(path.join(bin.client, "psql"), ["--version"])}`,
      `PgBouncer: ${versionOf(pgbouncer, ["--version"])} (Debian 12; image ghcr.io/cloudnative-pg/pgbouncer:1.25.0)`,
      `Synapse: ${synapse.stdout.trim()} (image ghcr.io/element-hq/synapse:v${synapseVersion})`,
    ];
    process.stderr.write(`      versions:\n${versions.map((v) => `        ${v}\n`).join("")}`);
    process.stderr.write(`      rewrites:\n${rewrites.map((r) => `        - ${r}\n`).join("")}`);
    main = new ImagePostgres(bin, podPostgres(res, "matrix-postgres"), "main");
    li = new ImagePostgres(bin, podPostgres(res, "matrix-li-postgres"), "li");
    scratch.push(main.dir, li.dir);
    const done = step("first start of the Matrix PostgreSQL as the image does it");
    await main.start();
    done();
    bouncerPort = await freePort();
    bouncer = startBouncer(pgbouncer);
  });

  after(async function () {
    await bouncer?.stop();
    await main?.stop();
    await li?.stop();
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
  });

  function startBouncer(program: string): Running {
    const dir = scratchDir("pgbouncer");
    scratch.push(dir);
    return startPgBouncer(res, program, { server: main.port, listen: bouncerPort }, dir);
  }

  const throughBouncer = (password: string): Conn => ({
    port: bouncerPort,
    user: "synapse",
    password,
    database: "synapse",
  });

  it("starts as the image's entrypoint does with the rendered env, Secrets and init scripts; every -c setting takes", async function () {
    const env = main.pod.env;
    expect(Object.keys(main.pod.initFiles)).to.deep.equal(["20-publication.sh"]);
    expect(main.initLog, "a ConfigMap file without the executable bit is sourced").to.contain(
      `sourcing ${main.initdbDir}/20-publication.sh`,
    );
    const su = main.superuser();
    for (const [name, value] of settingsOf(main.pod.args)) {
      const [shown, source] = (
        await query(
          bin,
          su,
          `SELECT current_setting('${name}'), source FROM pg_settings WHERE name = '${name}'`,
        )
      ).split("|");
      expect(sameSetting(shown, value), `SHOW ${name} = ${shown}, rendered ${value}`).to.equal(true);
      expect(source, `${name} comes from the arguments`).to.equal("command line");
    }
    expect(settingsOf(main.pod.args).map(([n]) => n)).to.include.members([
      "wal_level",
      "max_replication_slots",
    ]);
    const db = await query(
      bin,
      su,
      `SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = '${env.POSTGRES_DB}'`,
    );
    expect(db, `POSTGRES_INITDB_ARGS=${env.POSTGRES_INITDB_ARGS}`).to.equal("UTF8|C|C");
    expect(await query(bin, su, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).to.equal("t");
    const wrong = await psqlRun(bin, { ...su, password: "not-the-password" }, "SELECT 1");
    expect(wrong.status, "a wrong superuser password over TCP").to.not.equal(0);
    expect(wrong.stderr).to.match(/password authentication failed/);

    const replicator = { ...su, user: "li_replicator", password: env.LI_REPLICATOR_PASSWORD };
    expect(
      await query(bin, replicator, "SELECT rolreplication FROM pg_roles WHERE rolname = current_user"),
    ).to.equal("t");
    const published = await query(
      bin,
      su,
      "SELECT pubname, puballtables, pubupdate, pubdelete FROM pg_publication; " +
        "SELECT evtname, evtevent, evtenabled FROM pg_event_trigger",
    );
    expect(published.split("\n")).to.deep.equal([
      "synapse_li|t|t|t",
      "keel_replica_identity|ddl_command_end|O",
    ]);
  });

  it("PgBouncer runs the rendered pgbouncer.ini: the generated password logs in through it, a wrong one is refused", async function () {
    const userlist = secretValue(res, "matrix", "pgbouncer-auth", "userlist.txt");
    const password = main.pod.env.POSTGRES_PASSWORD;
    expect(userlist, "the pooler's userlist holds the server's generated password").to.equal(
      `"synapse" "${password}"\n`,
    );
    await waitFor("PgBouncer listens", () => portOpen(bouncerPort), 30_000, bouncer);
    const who = await query(
      bin,
      throughBouncer(password),
      "SELECT current_user, current_database(), inet_server_port()",
    );
    expect(who, "logged in through PgBouncer to the server").to.equal(`synapse|synapse|${main.port}`);
    const wrong = await psqlRun(bin, throughBouncer("not-the-password"), "SELECT 1");
    expect(wrong.status).to.not.equal(0);
    // PgBouncer refuses it itself (1.18 says "SASL authentication failed"), before any server login.
    expect(wrong.stderr, wrong.stderr).to.match(/FATAL: +(SASL|password) authentication failed/);
  });

  let tables = 0;
  let withoutKey: string[] = [];

  it("Synapse migrates its schema through PgBouncer with the LI publication in place and runs its background updates", async function () {
    const dir = scratchDir("synapse");
    scratch.push(dir);
    const config = synapseDatabaseConfig(dir);
    const env = {
      PATH: process.env.PATH,
      LANG: "C.UTF-8",
      PGPASSWORD: containerEnv(res, "matrix", synapseMainContainer(), { "metadata.name": "synapse-main-0" })
        .PGPASSWORD,
    };
    const done = step(
      `python -m synapse._scripts.update_synapse_database --run-background-updates (Synapse ${synapseVersion})`,
    );
    const r = await exec(
      synapsePython,
      [
        "-m",
        "synapse._scripts.update_synapse_database",
        "--database-config",
        config,
        "--run-background-updates",
      ],
      env,
    );
    done();
    const failure = (r.stderr.match(/^.*(ERROR|Error\b|errors\.).*$/gm) ?? []).slice(-2).join("\n");
    expect(r.status, `update_synapse_database failed:\n${failure}\n${r.stderr.slice(-3000)}`).to.equal(0);

    const su = main.superuser();
    const counts = await query(
      bin,
      su,
      "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'synapse_li'; " +
        "SELECT c.relname FROM pg_publication_tables t JOIN pg_class c ON c.oid = format('%I.%I', t.schemaname, t.tablename)::regclass " +
        "WHERE t.pubname = 'synapse_li' AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) ORDER BY 1",
    );
    const [total, ...names] = counts.split("\n");
    tables = Number(total);
    withoutKey = names;
    process.stderr.write(`        published: ${tables} tables, ${withoutKey.length} without a primary key\n`);
    expect(withoutKey).to.include.members(["background_updates", "stream_positions"]);
    const lacking = await query(
      bin,
      su,
      "SELECT format('%I.%I', schemaname, tablename) FROM pg_publication_tables WHERE pubname = 'synapse_li' " +
        "AND public.keel_replica_identity_wanted(format('%I.%I', schemaname, tablename)::regclass) IS NOT NULL",
    );
    expect(lacking, "published tables without a replica identity").to.equal("");
    // REPLICA IDENTITY FULL makes the subscriber compare whole rows: every column needs an equality operator.
    // (Unlogged tables, e.g. worker_read_write_locks, SET UNLOGGED by Synapse's delta 80, are not published.)
    const full = (
      await query(
        bin,
        su,
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
          "WHERE c.relreplident = 'f' AND c.relkind = 'r' AND c.relpersistence = 'p' ORDER BY 1",
      )
    ).split("\n");
    expect(full, "FULL exactly on the tables without a primary key").to.deep.equal(
      withoutKey.map((t) => `public.${t}`),
    );
    await query(bin, su, full.map((t) => `SELECT DISTINCT * FROM ${t} LIMIT 0;`).join("\n"));
  });

  it("the LI replica (rendered LI server, rendered li-replication-setup job) receives updates and deletes of tables without a primary key", async function () {
    expect(tables, "Synapse's schema is in place").to.be.greaterThan(0);
    let done = step("first start of the LI PostgreSQL as the image does it");
    await li.start();
    done();
    expect(li.initLog).to.contain(`sourcing ${li.initdbDir}/10-extra-databases.sh`);
    done = step("li-replication-setup (schema copy, subscription, initial copy)");
    const setup = await replicationSetup("1.151.0-li.1");
    done();
    expect(setup.stdout).to.contain("subscribed; initial copy running");
    await replicaCaughtUp();

    const m = main.superuser();
    await query(
      bin,
      m,
      [
        "INSERT INTO background_updates (update_name, progress_json) VALUES ('keel_probe_a', '{}'), ('keel_probe_b', '{}');",
        "UPDATE background_updates SET progress_json = '{\"updated\": true}' WHERE update_name = 'keel_probe_a';",
        "DELETE FROM background_updates WHERE update_name = 'keel_probe_b';",
        "INSERT INTO stream_positions (stream_name, instance_name, stream_id) VALUES ('keel_probe', 'keel', 1);",
        "UPDATE stream_positions SET stream_id = 42 WHERE stream_name = 'keel_probe';",
        "DELETE FROM stream_positions WHERE stream_name = 'keel_probe' AND stream_id = 42;",
        "INSERT INTO stream_positions (stream_name, instance_name, stream_id) VALUES ('keel_probe', 'kept', 7);",
      ].join("\n"),
    );
    const probe =
      "SELECT string_agg(update_name || '=' || progress_json, ',' ORDER BY update_name) FROM background_updates " +
      "WHERE update_name LIKE 'keel_probe%'; " +
      "SELECT string_agg(instance_name || '=' || stream_id, ',' ORDER BY instance_name) FROM stream_positions " +
      "WHERE stream_name = 'keel_probe'";
    const expected = 'keel_probe_a={"updated": true}\nkept=7';
    expect(await query(bin, m, probe)).to.equal(expected);
    await waitFor(
      "the replica has the updates and deletes",
      async () => (await query(bin, li.superuser(), probe)) === expected,
      60_000,
    );
  });

  it("a table Synapse adds in an upgrade gets an identity at once; after the job's resync its updates and deletes reach the replica", async function () {
    expect(tables, "Synapse's schema is in place").to.be.greaterThan(0);
    // As Synapse's migrations do it: through PgBouncer, as the application role, in a transaction.
    const app = throughBouncer(main.pod.env.POSTGRES_PASSWORD);
    await query(
      bin,
      app,
      [
        "BEGIN;",
        "CREATE TABLE keel_upgrade_added (room_id TEXT NOT NULL, stream_ordering BIGINT, content TEXT);",
        "INSERT INTO keel_upgrade_added VALUES ('!a', 1, 'one'), ('!b', 2, 'two'), ('!c', 3, 'three');",
        "UPDATE keel_upgrade_added SET content = 'ONE' WHERE room_id = '!a';",
        "DELETE FROM keel_upgrade_added WHERE room_id = '!b';",
        // pg_dump-style, as Synapse's full schema: created without a key, keyed by the next statement.
        "CREATE TABLE keel_upgrade_keyed (id BIGINT NOT NULL, v TEXT);",
        "ALTER TABLE ONLY keel_upgrade_keyed ADD CONSTRAINT keel_upgrade_keyed_pkey PRIMARY KEY (id);",
        "COMMIT;",
      ].join("\n"),
    );
    expect(
      await query(
        bin,
        app,
        "SELECT relname || '=' || relreplident::text FROM pg_class WHERE relname LIKE 'keel_upgrade_%' AND relkind = 'r' ORDER BY 1",
      ),
      "FULL without a key; DEFAULT once keyed",
    ).to.equal("keel_upgrade_added=f\nkeel_upgrade_keyed=d");
    // Logical replication carries no DDL: until the job copies the new schema the replica's apply worker stops
    // at the new table (the runbook's resync after an upgrade).
    await waitFor(
      "the replica's apply worker reports the missing table",
      () => /target relation "public\.keel_upgrade_added" does not exist/.test(li.output()),
      60_000,
    );
    const done = step("li-replication-setup for the upgraded image (drop, schema copy, resubscribe)");
    const setup = await replicationSetup("1.151.0-li.2");
    done();
    expect(setup.stdout).to.contain("resynchronising the replica to schema 1.151.0-li.2");
    await replicaCaughtUp();
    const l = li.superuser();
    expect(
      await query(
        bin,
        l,
        "SELECT evtname FROM pg_event_trigger; SELECT relreplident FROM pg_class WHERE relname = 'keel_upgrade_added'",
      ),
      "the replica's schema copy carries the event trigger and the identity",
    ).to.equal("keel_replica_identity\nf");
    await query(
      bin,
      app,
      "UPDATE keel_upgrade_added SET content = 'THREE' WHERE room_id = '!c'; DELETE FROM keel_upgrade_added WHERE room_id = '!a';",
    );
    const probe =
      "SELECT string_agg(room_id || '=' || content, ',' ORDER BY room_id) FROM keel_upgrade_added";
    await waitFor(
      "the replica has the new table's update and delete",
      async () => (await query(bin, l, probe)) === "!c=THREE",
      60_000,
    );
  });

  it("re-running the rendered init script (kubectl exec, as the runbook says) converges an existing database", async function () {
    expect(tables, "Synapse's schema is in place").to.be.greaterThan(0);
    const su = main.superuser();
    // A database from before the fix: no event trigger, and a table without a primary key or identity.
    await query(
      bin,
      su,
      [
        "DROP EVENT TRIGGER keel_replica_identity;",
        "CREATE TABLE keel_legacy (k TEXT, v TEXT);",
        "ALTER TABLE stream_positions REPLICA IDENTITY DEFAULT;",
        "CREATE TABLE keel_legacy_keyed (id INT PRIMARY KEY) ;",
        "ALTER TABLE keel_legacy_keyed REPLICA IDENTITY NOTHING;",
      ].join("\n"),
    );
    const failing = await psqlRun(bin, su, "DELETE FROM keel_legacy");
    expect(failing.stderr).to.match(
      /cannot delete from table "keel_legacy" because it does not have a replica identity/,
    );
    const [cmd, args] = asPostgresUser("bash", [path.join(main.initdbDir, "20-publication.sh")]);
    const r = await exec(cmd, args, main.env({ PGHOST: main.sockets, PGPORT: String(main.port) }));
    expect(r.status, r.stderr).to.equal(0);
    expect(
      await query(
        bin,
        su,
        "SELECT relname || '=' || relreplident::text FROM pg_class " +
          "WHERE relname IN ('keel_legacy', 'keel_legacy_keyed', 'stream_positions') ORDER BY 1; " +
          "SELECT count(*) FROM pg_publication; SELECT count(*) FROM pg_event_trigger",
      ),
    ).to.equal("keel_legacy=f\nkeel_legacy_keyed=d\nstream_positions=f\n1\n1");
    await query(bin, su, "INSERT INTO keel_legacy VALUES ('a', 'b'); DELETE FROM keel_legacy;");
    const replicator = { ...su, user: "li_replicator", password: main.pod.env.LI_REPLICATOR_PASSWORD };
    expect(await query(bin, replicator, "SELECT count(*) >= 0 FROM stream_positions")).to.equal("t");
  });

  // ---- helpers that need the suite's state ----

  function synapseMainContainer(): any {
    return find(res, "StatefulSet", /^matrix-synapse-main$/).inputs.spec.template.spec.containers[0];
  }

  /** The rendered homeserver.yaml's database section, pointed at the PgBouncer here. */
  function synapseDatabaseConfig(dir: string): string {
    const hs = YAML.parse(fileOf(res, "ConfigMap", /^matrix-synapse-main-conf$/, "homeserver.yaml"));
    expect(hs.database.args).to.include({ host: "pgbouncer", port: 5432 });
    const signingKey = path.join(dir, "signing.key");
    fs.writeFileSync(signingKey, secretValue(res, "matrix", "synapse-signing-key", "signing.key"), {
      mode: 0o600,
    });
    const config = {
      server_name: hs.server_name,
      signing_key_path: signingKey,
      trusted_key_servers: hs.trusted_key_servers,
      report_stats: hs.report_stats,
      database: { ...hs.database, args: { ...hs.database.args, host: "127.0.0.1", port: bouncerPort } },
    };
    const file = path.join(dir, "database.yaml");
    fs.writeFileSync(file, YAML.stringify(config));
    return file;
  }

  /** The rendered li-replication-setup job's script, run as the job would against these two servers. */
  async function replicationSetup(schemaVersion: string): Promise<Run> {
    const job = find(res, "Job", /^matrix-li-replication-setup$/);
    const container = job.inputs.spec.template.spec.containers[0];
    const env = containerEnv(res, job.inputs.metadata.namespace, container);
    expect(env.MAIN_PASSWORD, "the job's replication password is main's li_replicator password").to.equal(
      main.pod.env.LI_REPLICATOR_PASSWORD,
    );
    expect(env.SCHEMA_VERSION).to.equal("1.163.2-li.1");
    const tmp = scratchDir("li-job");
    scratch.push(tmp);
    const script = (container.command as string[])[2];
    expect(script).to.contain("port=5432");
    const rewritten = script.replace(/port=5432/g, `port=${main.port}`).replace(/\/tmp\//g, `${tmp}/`);
    const [cmd, args] = asPostgresUser("bash", ["-c", rewritten]);
    const r = await exec(cmd, args, {
      PATH: `${bin.client}:${process.env.PATH}`,
      LANG: "C.UTF-8",
      ...env,
      SCHEMA_VERSION: schemaVersion,
      MAIN_HOST: "127.0.0.1",
      PGHOST: "127.0.0.1",
      PGPORT: String(li.port),
    });
    if (r.status !== 0)
      throw new Error(`li-replication-setup failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  /** Every table main publishes is in the subscription and has finished its initial copy. */
  async function replicaCaughtUp(): Promise<void> {
    const published = await query(
      bin,
      main.superuser(),
      "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'synapse_li'",
    );
    const states =
      "SELECT count(*) FILTER (WHERE srsubstate = 'r') || '/' || count(*) FROM pg_subscription_rel";
    await waitFor(
      "every published table is subscribed and copied",
      async () => (await query(bin, li.superuser(), states)) === `${published}/${published}`,
      300_000,
    );
  }
});

const versionScript =
  "import sys, synapse, psycopg2; print(f'matrix-synapse {synapse.__version__}, psycopg2 {psycopg2.__version__}, " +
  "Python {sys.version.split()[0]}')";

import {
  PgBouncer,
  Postgres,
  publicationInitScript,
  renderPgBouncerIni,
  validatePgBouncerArgs,
} from "@keel/core";
import { expect } from "chai";
import { get, installMocks, ofType, settle } from "./harness";

const resources = { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } };
const backup = { schedule: "17 3 * * *", retain: 3, storageClass: "bulk", size: "10Gi" };

describe("PgBouncer", () => {
  beforeEach(() => installMocks());

  it("pools in session mode by default and caps server connections at the pool size", () => {
    const ini = renderPgBouncerIni({
      serverHost: "synapse-postgres",
      database: "synapse",
      user: "synapse",
      poolMode: "session",
      poolSize: 40,
      maxClientConnections: 160,
    });
    expect(ini).to.match(/^pool_mode = session$/m);
    expect(ini).to.match(/^default_pool_size = 40$/m);
    expect(ini).to.match(/^max_db_connections = 40$/m);
    expect(ini).to.match(/^synapse = host=synapse-postgres port=5432 dbname=synapse user=synapse$/m);
    expect(ini).not.to.match(/password/i);
  });

  it("names the field for bad pool settings", () => {
    const base = {
      namespace: "m",
      partOf: "matrix",
      image: "i:1",
      resources,
      serverApp: "pg",
      databaseId: "matrix/pg",
      database: "synapse",
      user: "synapse",
      password: "x",
    };
    expect(validatePgBouncerArgs({ ...base, poolSize: 0 }).map((e) => e.field)).to.deep.equal(["poolSize"]);
    expect(
      validatePgBouncerArgs({ ...base, poolSize: 10, poolMode: "statement" as never }).map((e) => e.field),
    ).to.deep.equal(["poolMode"]);
    expect(
      validatePgBouncerArgs({ ...base, poolSize: 10, maxClientConnections: 5 }).map((e) => e.field),
    ).to.deep.equal(["maxClientConnections"]);
  });

  it("keeps the password in its own Secret, declares its pool against the database, and may reach only it", async () => {
    new PgBouncer("matrix-pgbouncer", {
      namespace: "matrix",
      partOf: "matrix",
      image: "ghcr.io/cloudnative-pg/pgbouncer:1.25.0",
      resources,
      serverApp: "synapse-postgres",
      databaseId: "matrix/synapse-postgres",
      database: "synapse",
      user: "synapse",
      password: "s3cret-value-from-random",
      poolSize: 40,
      allowFrom: [{ app: "synapse-main" }],
    });
    const res = await settle();
    const deploy = get(res, "Deployment", "matrix-pgbouncer").inputs;
    expect(deploy.metadata.annotations["keel.dev/db-pools"]).to.equal("matrix/synapse-postgres=40");
    expect(deploy.spec.replicas).to.equal(2);
    const cm = ofType(res, "ConfigMap").find((c) => c.inputs.data?.["pgbouncer.ini"]);
    expect(cm?.inputs.data["pgbouncer.ini"]).not.to.contain("s3cret");
    expect(ofType(res, "PodDisruptionBudget")).to.have.length(1);
    const egress = get(res, "NetworkPolicy", "matrix-pgbouncer-netpol").inputs.spec.egress;
    expect(JSON.stringify(egress)).to.contain("synapse-postgres");
  });
});

describe("PostgreSQL publication for a logical replica", () => {
  beforeEach(() => installMocks());

  const script = () =>
    publicationInitScript({
      name: "synapse_li",
      user: "li_replicator",
      database: "synapse",
      owner: "synapse",
    });

  it("creates a replication role readable on future tables and a publication of all tables", () => {
    const sql = script();
    expect(sql).to.contain("ALTER ROLE li_replicator WITH REPLICATION LOGIN PASSWORD :'pw';");
    expect(sql).to.contain(
      "ALTER DEFAULT PRIVILEGES FOR ROLE synapse IN SCHEMA public GRANT SELECT ON TABLES TO li_replicator;",
    );
    expect(sql).to.match(
      /^SELECT 'CREATE PUBLICATION synapse_li FOR ALL TABLES' WHERE NOT EXISTS .*\\gexec$/m,
    );
    expect(sql).not.to.match(/PASSWORD '[^:]/);
  });

  it("can run again on an existing database: the role and the publication are created only when missing", () => {
    const sql = script();
    expect(sql).to.match(
      /^SELECT 'CREATE ROLE li_replicator' WHERE NOT EXISTS \(.*rolname = 'li_replicator'\) \\gexec$/m,
    );
    expect(sql).not.to.match(/^CREATE (ROLE|PUBLICATION) /m);
    expect(sql).to.match(/^DROP EVENT TRIGGER IF EXISTS keel_replica_identity;$/m);
    expect(sql).to.match(
      /^CREATE OR REPLACE FUNCTION public\.keel_replica_identity\(\) RETURNS event_trigger$/m,
    );
  });

  it("keeps every table replicable, now and after later DDL: FULL without a key, DEFAULT with a primary key", () => {
    const sql = script();
    // Later: an event trigger at the end of each DDL that creates or alters a table.
    expect(sql).to.match(
      /CREATE EVENT TRIGGER keel_replica_identity ON ddl_command_end\s+WHEN TAG IN \('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE'\)\s+EXECUTE FUNCTION public\.keel_replica_identity\(\);/,
    );
    expect(sql).to.contain("FROM pg_event_trigger_ddl_commands() WHERE object_type = 'table'");
    // Now: every user table whose identity is not the wanted one, before the publication exists.
    const sweep = sql.indexOf("SELECT format('ALTER TABLE %s REPLICA IDENTITY %s', c.oid::regclass");
    expect(sweep).to.be.greaterThan(0);
    expect(sweep).to.be.lessThan(sql.indexOf("CREATE PUBLICATION"));
    // Wanted: untouched with a live identity index; DEFAULT once a primary key exists; else FULL.
    const wanted = sql.slice(sql.indexOf("keel_replica_identity_wanted(rel oid)"), sql.indexOf("$$;"));
    expect(wanted).to.contain("WHEN c.relkind NOT IN ('r', 'p') OR c.relpersistence <> 'p' THEN NULL");
    expect(wanted).to.match(/WHEN c\.relreplident = 'i' AND EXISTS \(.*i\.indisreplident\) THEN NULL/);
    expect(wanted).to.match(
      /i\.indisprimary\)\s+THEN CASE WHEN c\.relreplident = 'd' THEN NULL ELSE 'DEFAULT' END/,
    );
    expect(wanted).to.match(/WHEN c\.relreplident = 'f' THEN NULL\s+ELSE 'FULL' END/);
  });

  it("turns on wal_level=logical and passes the replication password only from the Secret", async () => {
    new Postgres("pg", {
      namespace: "matrix",
      partOf: "matrix",
      image: "postgres:17.6-bookworm",
      appName: "synapse-postgres",
      resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
      storageClass: "fast",
      database: "synapse",
      user: "synapse",
      initdbArgs: "--encoding=UTF8 --lc-collate=C --lc-ctype=C",
      publication: { name: "synapse_li", user: "li_replicator" },
      backup,
    });
    const res = await settle();
    const container = get(res, "StatefulSet", "pg").inputs.spec.template.spec.containers[0];
    expect(container.args.join(" ")).to.contain("wal_level=logical");
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e]));
    expect(env.POSTGRES_INITDB_ARGS.value).to.equal("--encoding=UTF8 --lc-collate=C --lc-ctype=C");
    expect(env.LI_REPLICATOR_PASSWORD.valueFrom.secretKeyRef.key).to.equal("li_replicator-password");
    const init = get(res, "ConfigMap", "pg-initdb").inputs.data;
    expect(Object.keys(init)).to.deep.equal(["20-publication.sh"]);
  });
});

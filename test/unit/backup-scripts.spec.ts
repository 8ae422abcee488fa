import { Postgres, postgresBackupScript, postgresRestoreScript } from "@keel/core";
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { repoRoot } from "./fixtures";
import { get, installMocks, settle } from "./harness";

// The scripts' logic with stand-ins for pg_dump and psql on PATH (fast); test/e2e/backup-restore.spec.ts
// runs the same scripts against a real PostgreSQL.

const complete = "CREATE TABLE t (id int);\n--\n-- PostgreSQL database dump complete\n--\n\n";

/** A scratch directory with a backups/ folder and a bin/ folder of stand-in programs. */
function sandbox(programs: Record<string, string>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-backup-unit-"));
  const bin = path.join(dir, "bin");
  const backups = path.join(dir, "backups");
  fs.mkdirSync(bin);
  fs.mkdirSync(backups);
  for (const [name, body] of Object.entries(programs)) {
    fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  }
  const run = (script: string, env: Record<string, string> = {}) =>
    spawnSync("bash", ["-c", script], {
      encoding: "utf8",
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        PGDATABASE: "app",
        RETAIN: "2",
        BACKUP_DIR: backups,
        OUT: path.join(dir, "psql-input"),
        ...env,
      },
    });
  return { dir, backups, run, psqlInput: () => fs.readFileSync(path.join(dir, "psql-input"), "utf8") };
}

/** The backup CronJob of a Postgres rendered with the mocks. */
async function backupCronJob(extraDatabases?: { database: string; user: string }[]): Promise<any> {
  await installMocks();
  new Postgres("db", {
    extraDatabases,
    namespace: "apps",
    partOf: "apps",
    image: "docker.io/library/postgres:17.6-bookworm",
    resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    storageClass: "fast",
    database: "app",
    user: "app",
    backup: { storageClass: "bulk", retain: 4 },
  });
  return get(await settle(), "CronJob", "db-backup").inputs;
}

/**
 * `scripts/postgres/backups.sh --print -n apps <args>` in a sandbox whose kubectl renders `cronJob` as
 * `kubectl create job --from=cronjob/...` does: its job template, owned by the CronJob.
 */
function backupsTool(cronJob: any, s: ReturnType<typeof sandbox>) {
  const fromCronJob = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: "postgres-restore-x",
      namespace: "apps",
      annotations: { "cronjob.kubernetes.io/instantiate": "manual" },
      ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "postgres-backup", uid: "u" }],
    },
    spec: cronJob.spec.jobTemplate.spec,
  };
  const jobJson = path.join(s.dir, "job.json");
  fs.writeFileSync(jobJson, JSON.stringify(fromCronJob));
  const script = path.join(repoRoot, "scripts/postgres/backups.sh");
  return (...args: string[]) =>
    spawnSync("bash", [script, "--print", "-n", "apps", ...args], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${path.join(s.dir, "bin")}:${process.env.PATH}`, JOB_JSON: jobJson },
    });
}

/** A kubectl stand-in: `create job` prints $JOB_JSON, `get cronjob` finds it, anything else fails. */
const kubectlStub = `case "$*" in *"create job"*) cat "$JOB_JSON" ;; *"get cronjob"*) exit 0 ;; *) exit 9 ;; esac`;

describe("PostgreSQL backup and restore scripts", () => {
  let dirs: string[] = [];
  const track = <T extends { dir: string }>(s: T) => (dirs.push(s.dir), s);
  afterEach(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    dirs = [];
  });

  it("the CronJob runs the backup script with its volume at /backups and no BACKUP_DIR (the script's default)", async () => {
    const job = await backupCronJob();
    const container = job.spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.command).to.deep.equal(["bash", "-c", postgresBackupScript()]);
    // The e2e drill gives the scripts exactly these, plus PGPORT and BACKUP_DIR.
    expect(container.env.map((e: any) => e.name).sort()).to.deep.equal([
      "DATABASES",
      "PGDATABASE",
      "PGHOST",
      "PGPASSWORD",
      "PGUSER",
      "RETAIN",
      "SERVER",
    ]);
    expect(container.volumeMounts).to.deep.include({ name: "backups", mountPath: "/backups" });
    for (const script of [postgresBackupScript(), postgresRestoreScript()]) {
      expect(script).to.include('dir="${BACKUP_DIR:-/backups}"');
    }
  });

  it("the CronJob dumps the extra databases (Keycloak's) with the application database", async () => {
    const job = await backupCronJob([{ database: "keycloak", user: "keycloak" }]);
    const env = job.spec.jobTemplate.spec.template.spec.containers[0].env;
    expect(env.find((e: any) => e.name === "DATABASES").value).to.equal("app keycloak");
    expect(env.find((e: any) => e.name === "PGDATABASE").value).to.equal("app");
  });

  it("dumps every database in $DATABASES in one run, keeps the newest $RETAIN of each, and keeps ownership", () => {
    const s = track(sandbox({ pg_dump: `echo "-- pg_dump $*"; printf '%s' '${complete}'` }));
    const old = [
      "app-20250101T000000Z.sql.gz",
      "app-20250102T000000Z.sql.gz",
      "keycloak-20250101T000000Z.sql.gz",
      "keycloak-20250102T000000Z.sql.gz",
      // Another database whose name starts like one being dumped: never counted or deleted with it.
      "app_archive-20240101T000000Z.sql.gz",
    ];
    for (const [i, name] of old.entries()) {
      const file = path.join(s.backups, name);
      fs.writeFileSync(file, zlib.gzipSync(complete));
      fs.utimesSync(file, new Date(2025, 0, i + 1), new Date(2025, 0, i + 1));
    }
    const r = s.run(postgresBackupScript(), { RETAIN: "2", DATABASES: "app keycloak" });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.match(/^backup \S+ written; kept: 2$/gm)).to.have.length(2);
    const left = fs.readdirSync(s.backups).sort();
    expect(left.filter((f) => f.startsWith("app-"))).to.have.length(2);
    expect(left.filter((f) => f.startsWith("keycloak-"))).to.have.length(2);
    expect(left).to.include.members([
      "app-20250102T000000Z.sql.gz",
      "keycloak-20250102T000000Z.sql.gz",
      "app_archive-20240101T000000Z.sql.gz",
    ]);
    const fresh = left.filter((f) => !old.includes(f));
    expect(fresh.map((f) => f.replace(/-\d{8}T\d{6}Z\.sql\.gz$/, ""))).to.deep.equal(["app", "keycloak"]);
    for (const f of fresh) {
      const sql = zlib.gunzipSync(fs.readFileSync(path.join(s.backups, f))).toString();
      const db = f.split("-")[0];
      expect(sql).to.include(`-- pg_dump --format=plain --dbname=${db}\n`);
      expect(sql).to.not.include("--no-owner");
    }
  });

  it("a failed dump of a later database exits non-zero and leaves the earlier dump, no .partial, every old dump", () => {
    const s = track(
      sandbox({
        pg_dump: `if [[ "$*" == *keycloak* ]]; then echo 'permission denied' >&2; exit 1; fi; printf '%s' '${complete}'`,
      }),
    );
    fs.writeFileSync(path.join(s.backups, "keycloak-20250101T000000Z.sql.gz"), zlib.gzipSync(complete));
    const r = s.run(postgresBackupScript(), { RETAIN: "1", DATABASES: "app keycloak" });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.include("permission denied");
    const left = fs.readdirSync(s.backups).sort();
    expect(left).to.have.length(2);
    expect(left[0]).to.match(/^app-\d{8}T\d{6}Z\.sql\.gz$/);
    expect(left[1]).to.equal("keycloak-20250101T000000Z.sql.gz");
  });

  it("restore takes the newest dump of $BACKUP_OF (default $PGDATABASE), never another database's", () => {
    const s = track(sandbox({ psql: 'cat > "$OUT"' }));
    const write = (name: string, body: string, day: number) => {
      const file = path.join(s.backups, name);
      fs.writeFileSync(file, zlib.gzipSync(`-- ${body}\n${complete}`));
      fs.utimesSync(file, new Date(2025, 0, day), new Date(2025, 0, day));
    };
    write("app-20250101T000000Z.sql.gz", "app", 1);
    write("keycloak-20250102T000000Z.sql.gz", "keycloak", 2);
    expect(s.run(postgresRestoreScript()).status).to.equal(0);
    expect(s.psqlInput()).to.equal(`-- app\n${complete}`);
    const r = s.run(postgresRestoreScript(), { PGDATABASE: "drill", BACKUP_OF: "keycloak" });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include("into drill");
    expect(s.psqlInput()).to.equal(`-- keycloak\n${complete}`);
    const none = s.run(postgresRestoreScript(), { PGDATABASE: "synapse" });
    expect(none.status).to.not.equal(0);
    expect(none.stderr).to.match(/no dump of synapse/);
  });

  it("a failed pg_dump exits non-zero, leaves no dump and no .partial, and deletes no old dump", () => {
    const s = track(sandbox({ pg_dump: "echo 'CREATE TABLE half'; echo 'connection lost' >&2; exit 1" }));
    for (const old of ["app-20250101T000000Z.sql.gz", "app-20250102T000000Z.sql.gz"]) {
      fs.writeFileSync(path.join(s.backups, old), zlib.gzipSync(complete));
    }
    const r = s.run(postgresBackupScript(), { RETAIN: "1" });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.include("connection lost");
    expect(fs.readdirSync(s.backups).sort()).to.deep.equal([
      "app-20250101T000000Z.sql.gz",
      "app-20250102T000000Z.sql.gz",
    ]);
  });

  it("a successful run writes one complete dump and keeps the newest $RETAIN", () => {
    const s = track(sandbox({ pg_dump: `printf '%s' '${complete}'` }));
    for (const [i, old] of ["app-20250101T000000Z.sql.gz", "app-20250102T000000Z.sql.gz"].entries()) {
      const file = path.join(s.backups, old);
      fs.writeFileSync(file, zlib.gzipSync(complete));
      fs.utimesSync(file, new Date(2025, 0, i + 1), new Date(2025, 0, i + 1));
    }
    const r = s.run(postgresBackupScript(), { RETAIN: "2" });
    expect(r.status, r.stderr).to.equal(0);
    const left = fs.readdirSync(s.backups).sort();
    expect(left).to.have.length(2);
    expect(left[0]).to.equal("app-20250102T000000Z.sql.gz");
    expect(left[1]).to.match(/^app-\d{8}T\d{6}Z\.sql\.gz$/);
    expect(zlib.gunzipSync(fs.readFileSync(path.join(s.backups, left[1]))).toString()).to.equal(complete);
  });

  it("restore feeds the newest dump to psql in one transaction that stops at the first error", () => {
    const s = track(sandbox({ psql: 'echo "$*" > "$OUT.args"; cat > "$OUT"' }));
    const older = path.join(s.backups, "app-20250101T000000Z.sql.gz");
    const newer = path.join(s.backups, "app-20250102T000000Z.sql.gz");
    fs.writeFileSync(older, zlib.gzipSync(`-- older\n${complete}`));
    fs.writeFileSync(newer, zlib.gzipSync(`-- newer\n${complete}`));
    fs.utimesSync(older, new Date(2025, 0, 1), new Date(2025, 0, 1));
    const r = s.run(postgresRestoreScript());
    expect(r.status, r.stderr).to.equal(0);
    expect(s.psqlInput()).to.equal(`-- newer\n${complete}`);
    expect(fs.readFileSync(`${path.join(s.dir, "psql-input")}.args`, "utf8").trim()).to.equal(
      "--set ON_ERROR_STOP=1 --single-transaction",
    );
    expect(s.run(postgresRestoreScript(), { BACKUP_FILE: older }).status).to.equal(0);
    expect(s.psqlInput()).to.equal(`-- older\n${complete}`);
  });

  it("restore refuses, before psql runs, a dump that is truncated or lacks pg_dump's completion trailer", () => {
    const s = track(sandbox({ psql: 'cat > "$OUT"' }));
    const truncated = zlib.gzipSync(complete);
    const damaged = {
      "incomplete.sql.gz": zlib.gzipSync("CREATE TABLE t (id int);\nCOPY t (id) FROM stdin;\n1\n"),
      "truncated.sql.gz": truncated.subarray(0, truncated.length - 8),
      "not-gzip.sql.gz": Buffer.from(complete),
    };
    for (const [name, content] of Object.entries(damaged)) {
      const file = path.join(s.dir, name);
      fs.writeFileSync(file, content);
      const r = s.run(postgresRestoreScript(), { BACKUP_FILE: file });
      expect(r.status, name).to.not.equal(0);
      expect(fs.existsSync(path.join(s.dir, "psql-input")), `${name}: psql ran`).to.equal(false);
    }
  });

  it("restore fails with a clear message when there is no dump at all", () => {
    const s = track(sandbox({ psql: 'cat > "$OUT"' }));
    const r = s.run(postgresRestoreScript());
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/no dump/);
  });

  it("scripts/postgres/backups.sh builds the restore Job from the CronJob, changing only the command, BACKUP_FILE and retries", async () => {
    const cronJob = await backupCronJob();
    const backups = backupsTool(cronJob, track(sandbox({ kubectl: kubectlStub })));
    const r = backups("restore", "app-20250102T031700Z.sql.gz");
    expect(r.status, r.stderr).to.equal(0);
    const job = JSON.parse(r.stdout);
    const container = job.spec.template.spec.containers[0];
    expect(container.command).to.deep.equal(["bash", "-c", postgresRestoreScript()]);
    expect(container.env.at(-1)).to.deep.equal({
      name: "BACKUP_FILE",
      value: "/backups/app-20250102T031700Z.sql.gz",
    });
    expect(job.spec.backoffLimit).to.equal(0);
    expect(job.metadata.ownerReferences).to.equal(undefined);
    // Everything else is the CronJob's: image, user, security, credentials, volume, labels.
    const original = cronJob.spec.jobTemplate.spec.template.spec;
    expect(job.spec.template.metadata).to.deep.equal(cronJob.spec.jobTemplate.spec.template.metadata);
    expect(job.spec.template.spec.securityContext).to.deep.equal(original.securityContext);
    expect(job.spec.template.spec.volumes).to.deep.equal(original.volumes);
    const omit = (c: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(c).filter(([k]) => !["command", "name", "env"].includes(k)));
    expect(omit(container)).to.deep.equal(omit(original.containers[0]));
    expect(container.env.slice(0, -1)).to.deep.equal(original.containers[0].env);

    // A drill into a scratch database: PGDATABASE changes, BACKUP_OF keeps choosing the application's dumps.
    const drill = JSON.parse(backups("--into", "app_drill", "restore").stdout).spec.template.spec
      .containers[0];
    expect(drill.env.map((e: any) => e.name)).to.deep.equal([
      ...original.containers[0].env.map((e: any) => e.name),
      "BACKUP_OF",
    ]);
    const value = (c: any, name: string) => c.env.find((e: any) => e.name === name).value;
    expect(value(drill, "PGDATABASE")).to.equal("app_drill");
    expect(value(drill, "BACKUP_OF")).to.equal("app");
    expect(backups("-d", "keycloak", "restore").status).to.equal(2); // this CronJob dumps only "app"
    expect(backups("-d", "Key cloak", "restore").status).to.equal(2);
    expect(backups("-d", "app", "list").status).to.equal(2);

    const refused = backups("restore", "../etc/passwd");
    expect(refused.status).to.equal(2);
    expect(refused.stderr).to.match(/FILE must be a dump's name/);
    expect(backups("--into", "App; DROP", "restore").status).to.equal(2);
  });

  it("scripts/postgres/backups.sh -d restores an extra database's dumps, into itself or a drill database", async () => {
    const cronJob = await backupCronJob([{ database: "keycloak", user: "keycloak" }]);
    const backups = backupsTool(cronJob, track(sandbox({ kubectl: kubectlStub })));
    const restoreEnv = (...args: string[]) => {
      const r = backups(...args);
      expect(r.status, r.stderr).to.equal(0);
      const env = JSON.parse(r.stdout).spec.template.spec.containers[0].env;
      return Object.fromEntries(env.filter((e: any) => "value" in e).map((e: any) => [e.name, e.value]));
    };
    expect(restoreEnv("-d", "keycloak", "restore")).to.include({
      PGDATABASE: "keycloak",
      BACKUP_OF: "keycloak",
    });
    expect(restoreEnv("-d", "keycloak", "--into", "kc_drill", "restore")).to.include({
      PGDATABASE: "kc_drill",
      BACKUP_OF: "keycloak",
    });
    // Still the server's superuser: a restore gives the objects back to the keycloak role.
    expect(restoreEnv("-d", "keycloak", "restore").PGUSER).to.equal("app");
  });
});

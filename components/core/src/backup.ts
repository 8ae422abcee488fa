import * as pulumi from "@pulumi/pulumi";
import { BackupPolicy } from "./backup-policy";
import { ScheduledBackup } from "./scheduled-backup";
import { SecretKeyRef } from "./volumes";

export interface PostgresBackupArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  /** The database id (`keel.dev/backup-of`). */
  databaseId: string;
  /** The app name of the database server (its Service). */
  serverApp: string;
  image: string;
  /** The application database. */
  database: string;
  /**
   * More databases on the same server, dumped in the same run, each kept to its own `retain` dumps. `user`
   * must be able to read them (it is the server's superuser, POSTGRES_USER). @default []
   */
  extraDatabases?: string[];
  /** The role the job connects as. */
  user: string;
  password: SecretKeyRef;
  policy: BackupPolicy;
  /** @default 999 (postgres) */
  runAsUser?: number;
}

/**
 * The backup script: each database in $DATABASES (default $PGDATABASE) in turn, dumped to a temp name,
 * renamed when complete, then all but its newest $RETAIN dumps deleted. A failed dump exits non-zero at
 * once, leaves nothing behind (no `.partial`) and deletes no older dump. Dumps live in $BACKUP_DIR, default
 * /backups (the CronJob mounts its volume there and does not set it), named `<database>-<UTC stamp>.sql.gz`.
 * Ownership is kept (no `--no-owner`): the job runs as the server's superuser, and a restore as that user
 * gives every object back to the role that owned it, e.g. Keycloak's tables to the `keycloak` role.
 */
export function postgresBackupScript(): string {
  return [
    "set -euo pipefail",
    'dir="${BACKUP_DIR:-/backups}"',
    'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
    'partial=""',
    `trap 'if [[ -n "\${partial}" ]]; then rm -f "\${partial}"; fi' EXIT`,
    "for db in ${DATABASES:-${PGDATABASE}}; do",
    '  file="${dir}/${db}-${stamp}.sql.gz"',
    '  partial="${file}.partial"',
    '  pg_dump --format=plain --dbname="${db}" | gzip > "${partial}"',
    '  mv "${partial}" "${file}"',
    '  partial=""',
    '  ls -1t "${dir}/${db}"-[0-9]*Z.sql.gz | tail -n +"$((RETAIN + 1))" | xargs -r rm -f --',
    '  echo "backup ${file} written; kept: $(ls "${dir}/${db}"-[0-9]*Z.sql.gz | wc -l)"',
    "done",
  ].join("\n");
}

/** The line near the end of every complete pg_dump plain-format dump. */
const pgDumpTrailer = "-- PostgreSQL database dump complete";

/**
 * The restore script (run by hand or by a Job): the newest dump of database $BACKUP_OF (default
 * $PGDATABASE) in $BACKUP_DIR (default /backups), or $BACKUP_FILE, into $PGDATABASE, in one transaction
 * that stops at the first error. The whole file is read once first: a damaged gzip stream or a dump without
 * pg_dump's completion trailer is refused before psql runs, because psql cannot see gunzip fail and would
 * commit the statements it received.
 */
export function postgresRestoreScript(): string {
  return [
    "set -euo pipefail",
    'dir="${BACKUP_DIR:-/backups}"',
    'of="${BACKUP_OF:-${PGDATABASE}}"',
    'file="${BACKUP_FILE:-$(ls -1t "${dir}/${of}"-[0-9]*Z.sql.gz 2>/dev/null | head -n 1 || true)}"',
    '[[ -n "${file}" ]] || { echo "no dump of ${of} (${of}-*.sql.gz) in ${dir}; nothing restored" >&2; exit 1; }',
    'echo "checking ${file}"',
    'if ! trailer="$(gunzip -c "${file}" | tail -n 10)"; then',
    '  echo "${file} is damaged (gunzip failed); nothing restored" >&2; exit 1',
    "fi",
    `if ! grep -qxF -- "${pgDumpTrailer}" <<<"\${trailer}"; then`,
    '  echo "${file} is not a complete pg_dump dump (no completion trailer); nothing restored" >&2; exit 1',
    "fi",
    'echo "restoring ${file} into ${PGDATABASE}"',
    'gunzip -c "${file}" | psql --set ON_ERROR_STOP=1 --single-transaction',
    'echo "restored ${file}"',
  ].join("\n");
}

/**
 * A CronJob that dumps a PostgreSQL server's databases to its own volume and keeps the newest `retain` dumps
 * of each; it never runs twice at once and gives up when it misses its start by more than 10 minutes.
 */
export class PostgresBackup extends pulumi.ComponentResource {
  constructor(name: string, args: PostgresBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:PostgresBackup", name, {}, opts);
    new ScheduledBackup(
      name,
      {
        namespace: args.namespace,
        partOf: args.partOf,
        databaseId: args.databaseId,
        serverApp: args.serverApp,
        serverPorts: [5432],
        image: args.image,
        runAsUser: args.runAsUser ?? 999,
        script: postgresBackupScript(),
        env: {
          PGHOST: args.serverApp,
          PGDATABASE: args.database,
          DATABASES: [args.database, ...(args.extraDatabases ?? [])].join(" "),
          PGUSER: args.user,
        },
        secretEnv: { PGPASSWORD: args.password },
        policy: args.policy,
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

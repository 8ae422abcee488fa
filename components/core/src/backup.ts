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
  database: string;
  user: string;
  password: SecretKeyRef;
  policy: BackupPolicy;
  /** @default 999 (postgres) */
  runAsUser?: number;
}

/**
 * The backup script: dump to a temp name, rename when complete, delete all but the newest $RETAIN. A failed
 * dump exits non-zero and leaves nothing behind (no `.partial`) and deletes no older dump. Dumps live in
 * $BACKUP_DIR, default /backups (the CronJob mounts its volume there and does not set it).
 */
export function postgresBackupScript(): string {
  return [
    "set -euo pipefail",
    'dir="${BACKUP_DIR:-/backups}"',
    'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
    'file="${dir}/${PGDATABASE}-${stamp}.sql.gz"',
    `trap 'rm -f "\${file}.partial"' EXIT`,
    'pg_dump --no-owner --format=plain | gzip > "${file}.partial"',
    'mv "${file}.partial" "${file}"',
    'ls -1t "${dir}"/*.sql.gz | tail -n +"$((RETAIN + 1))" | xargs -r rm -f --',
    'echo "backup ${file} written; kept: $(ls "${dir}"/*.sql.gz | wc -l)"',
  ].join("\n");
}

/** The line near the end of every complete pg_dump plain-format dump. */
const pgDumpTrailer = "-- PostgreSQL database dump complete";

/**
 * The restore script (run by hand or by a Job): the newest dump in $BACKUP_DIR (default /backups), or
 * $BACKUP_FILE, into the database, in one transaction that stops at the first error. The whole file is
 * read once first: a damaged gzip stream or a dump without pg_dump's completion trailer is refused before
 * psql runs, because psql cannot see gunzip fail and would commit the statements it received.
 */
export function postgresRestoreScript(): string {
  return [
    "set -euo pipefail",
    'dir="${BACKUP_DIR:-/backups}"',
    'file="${BACKUP_FILE:-$(ls -1t "${dir}"/*.sql.gz 2>/dev/null | head -n 1 || true)}"',
    '[[ -n "${file}" ]] || { echo "no dump (*.sql.gz) in ${dir}; nothing restored" >&2; exit 1; }',
    'echo "checking ${file}"',
    'if ! trailer="$(gunzip -c "${file}" | tail -n 10)"; then',
    '  echo "${file} is damaged (gunzip failed); nothing restored" >&2; exit 1',
    "fi",
    `if ! grep -qxF -- "${pgDumpTrailer}" <<<"\${trailer}"; then`,
    '  echo "${file} is not a complete pg_dump dump (no completion trailer); nothing restored" >&2; exit 1',
    "fi",
    'echo "restoring ${file}"',
    'gunzip -c "${file}" | psql --set ON_ERROR_STOP=1 --single-transaction',
    'echo "restored ${file}"',
  ].join("\n");
}

/**
 * A CronJob that dumps a PostgreSQL database to its own volume and keeps the newest `retain` dumps; it
 * never runs twice at once and gives up when it misses its start by more than 10 minutes.
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
        env: { PGHOST: args.serverApp, PGDATABASE: args.database, PGUSER: args.user },
        secretEnv: { PGPASSWORD: args.password },
        policy: args.policy,
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

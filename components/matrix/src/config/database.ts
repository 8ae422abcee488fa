import { ValidationError } from "@keel/core";
import { JsonObject } from "./json";
import { poolMinimum } from "./pools";

/**
 * Where Synapse's database is: normally PgBouncer (session mode) in front of PostgreSQL. The database must be
 * created with `ENCODING 'UTF8' LC_COLLATE='C' LC_CTYPE='C' TEMPLATE template0`.
 *
 * The password is NOT part of any rendered file: set the env var `PGPASSWORD` (libpq reads it; psycopg2 is
 * libpq) from the database Secret with `secretKeyRef` in every Synapse container. Why not a second config
 * file: Synapse merges `--config-path` files with a top-level `dict.update` (synapse/config/_base.py
 * `read_config_files`), so a `database:` block in a secrets file would replace the whole section, including
 * each process's own pool size.
 */
export interface SynapseDatabaseSettings {
  /** Host name of PgBouncer (or PostgreSQL), e.g. `synapse-pgbouncer`. */
  host: string;
  /** @default 5432 */
  port?: number;
  /** Database name. @default "synapse" */
  database?: string;
  /** Role Synapse logs in as. @default "synapse" */
  user?: string;
  /** libpq sslmode. @default "prefer" */
  sslmode?: "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full";
}

/** The env var carrying the database password into every Synapse container (libpq). */
export const DATABASE_PASSWORD_ENV = "PGPASSWORD";

const hostPattern = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const identifierPattern = /^[a-z_][a-z0-9_]{0,62}$/;
const sslmodes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

/** Checks the database settings; errors name `<field>.host` etc. */
export function validateDatabaseSettings(db: SynapseDatabaseSettings, field = "database"): ValidationError[] {
  const problems: ValidationError[] = [];
  if (typeof db?.host !== "string" || !hostPattern.test(db.host)) {
    problems.push(
      new ValidationError(`${field}.host`, `must be a lower-case DNS name, got ${JSON.stringify(db?.host)}`),
    );
  }
  const port = db?.port ?? 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push(new ValidationError(`${field}.port`, `must be an integer from 1 to 65535, got ${port}`));
  }
  for (const key of ["database", "user"] as const) {
    const value = db?.[key] ?? "synapse";
    if (!identifierPattern.test(value)) {
      problems.push(
        new ValidationError(
          `${field}.${key}`,
          `must be a lower-case PostgreSQL identifier (a-z, 0-9, _), got ${JSON.stringify(value)}`,
        ),
      );
    }
  }
  if (db?.sslmode !== undefined && !sslmodes.includes(db.sslmode)) {
    problems.push(new ValidationError(`${field}.sslmode`, `must be one of ${sslmodes.join(", ")}`));
  }
  return problems;
}

/**
 * The `database` section of one process: psycopg2 with its own pool (`cp_max`), an `application_name` that
 * shows in `pg_stat_activity` and PgBouncer's `SHOW CLIENTS`, and TCP keepalives so dead peers are noticed.
 */
export function databaseSection(
  db: SynapseDatabaseSettings,
  applicationName: string,
  cpMax: number,
): JsonObject {
  return {
    name: "psycopg2",
    args: {
      host: db.host,
      port: db.port ?? 5432,
      database: db.database ?? "synapse",
      user: db.user ?? "synapse",
      sslmode: db.sslmode ?? "prefer",
      application_name: applicationName,
      cp_min: poolMinimum(cpMax),
      cp_max: cpMax,
      keepalives: 1,
      keepalives_idle: 10,
      keepalives_interval: 10,
      keepalives_count: 3,
    },
  };
}

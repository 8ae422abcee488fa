import { ValidationError, stableYaml, throwIfInvalid } from "@keel/core";
import { SynapseDatabaseSettings, databaseSection, validateDatabaseSettings } from "./database";
import { JsonObject } from "./json";
import { SynapsePoolSizes, synapsePoolSizes, validatePoolSizes } from "./pools";
import { SYNAPSE_PORTS, WORKER_NAME_ENV, WorkerGroup } from "./workers";

/*
 * How a Synapse process starts. Every pod of a StatefulSet shares one pod template, so a worker's per-pod
 * identity (`worker_name`, which must equal its name in `instance_map`, `stream_writers`,
 * `federation_sender_instances`…) cannot sit in a ConfigMap. The worker command writes a one-line YAML file
 * `worker_name: "<pod name>"` from the env var POD_NAME (downward API `metadata.name`) into a writable
 * emptyDir and passes it as the LAST `--config-path`, after the shared, per-group and secrets files.
 * Synapse merges config files with a top-level `dict.update`, so the files must not share top-level keys
 * except on purpose (the per-group file overrides `database` with its own pool size).
 */

/** Where the component mounts the files (all absolute paths inside the container). */
export interface SynapseConfigPaths {
  /** Shared config rendered by `renderHomeserverConfig` (ConfigMap). @default "/conf/homeserver.yaml" */
  homeserver: string;
  /** Per-group worker config rendered by `renderWorkerConfig` (ConfigMap). @default "/conf/worker.yaml" */
  worker: string;
  /** Logging config rendered by `renderLogConfig` (ConfigMap). @default "/conf/log.yaml" */
  log: string;
  /** Secrets file rendered by `renderSynapseSecretsConfig` (Secret volume). @default "/secrets/synapse/secrets.yaml" */
  secrets: string;
  /** Written at start by the worker command into a writable emptyDir. @default "/run/synapse/instance.yaml" */
  instance: string;
}

const safePath = /^\/[A-Za-z0-9._/-]+$/;

/** Checks that every path is absolute and shell-safe (they are written into the worker command). */
export function validateConfigPaths(paths: Partial<SynapseConfigPaths>, field = "paths"): ValidationError[] {
  return Object.entries(paths)
    .filter(([, v]) => typeof v !== "string" || !safePath.test(v))
    .map(
      ([k, v]) =>
        new ValidationError(
          `${field}.${k}`,
          `must be an absolute path of [A-Za-z0-9._/-], got ${JSON.stringify(v)}`,
        ),
    );
}

/** Default mount layout. */
export const defaultSynapseConfigPaths: Readonly<SynapseConfigPaths> = {
  homeserver: "/conf/homeserver.yaml",
  worker: "/conf/worker.yaml",
  log: "/conf/log.yaml",
  secrets: "/secrets/synapse/secrets.yaml",
  instance: "/run/synapse/instance.yaml",
};

function configArgs(files: string[]): string[] {
  return files.flatMap((f) => ["--config-path", f]);
}

/** The main process's container command: no shell, shared config then secrets. */
export function mainCommand(paths: Partial<SynapseConfigPaths> = {}): string[] {
  throwIfInvalid(validateConfigPaths(paths));
  const p = { ...defaultSynapseConfigPaths, ...paths };
  return ["python", "-m", "synapse.app.homeserver", ...configArgs([p.homeserver, p.secrets])];
}

/**
 * A worker's container command (`/bin/sh -c`, the Synapse image is Debian-slim based): refuses to start
 * unless $POD_NAME is a pod of this group's StatefulSet, writes `worker_name` from it, then execs the worker
 * app with shared, per-group, secrets and instance files in that order. The component must set
 * `POD_NAME` from `fieldRef: metadata.name` and mount an emptyDir at the instance file's directory.
 */
export function workerCommand(group: WorkerGroup, paths: Partial<SynapseConfigPaths> = {}): string[] {
  throwIfInvalid(validateConfigPaths(paths));
  const p = { ...defaultSynapseConfigPaths, ...paths };
  const exec = [
    "exec",
    "python",
    "-m",
    group.app,
    ...configArgs([p.homeserver, p.worker, p.secrets, p.instance]),
  ];
  const script = [
    "set -eu",
    `case "$${WORKER_NAME_ENV}" in`,
    `  ${group.statefulSet}-[0-9]*) ;;`,
    `  *) echo "${WORKER_NAME_ENV}=$${WORKER_NAME_ENV} is not a pod of ${group.statefulSet}" >&2; exit 1 ;;`,
    "esac",
    `printf 'worker_name: "%s"\\n' "$${WORKER_NAME_ENV}" > ${p.instance}`,
    exec.join(" "),
  ].join("\n");
  return ["/bin/sh", "-c", script];
}

/** Inputs of `renderWorkerConfig`. */
export interface WorkerConfigInput {
  /** Where the database is (the password comes from PGPASSWORD). */
  database: SynapseDatabaseSettings;
  /** `cp_max` overrides; the group's kind picks its size. @default defaultSynapsePoolSizes */
  poolSizes?: Partial<SynapsePoolSizes>;
  /** Path of the logging config. @default "/conf/log.yaml" */
  logConfigPath?: string;
}

/** One HTTP listener entry (also used for main's `listeners`). */
export function httpListener(port: number, names: string[], xForwarded: boolean): JsonObject {
  return {
    port,
    type: "http",
    tls: false,
    bind_addresses: ["0.0.0.0"],
    x_forwarded: xForwarded,
    resources: [{ names, compress: false }],
  };
}

/** The listeners of a process: routes, replication when in `instance_map`, health, metrics. */
export function processListeners(opts: {
  http: boolean;
  media: boolean;
  replication: boolean;
}): JsonObject[] {
  return [
    ...(opts.http
      ? [
          httpListener(
            SYNAPSE_PORTS.http,
            opts.media ? ["client", "federation", "media"] : ["client", "federation"],
            true,
          ),
        ]
      : []),
    ...(opts.replication ? [httpListener(SYNAPSE_PORTS.replication, ["replication"], false)] : []),
    httpListener(SYNAPSE_PORTS.health, ["health"], false),
    { port: SYNAPSE_PORTS.metrics, type: "metrics", bind_addresses: ["0.0.0.0"] },
  ];
}

/**
 * The per-group worker config (one ConfigMap per StatefulSet, identical for all its pods): `worker_app`,
 * `worker_listeners`, `worker_log_config`, the `database` section with this group's `cp_max`, and
 * `enable_media_repo: false` except on the media repository (so no other worker creates a media store).
 * `worker_name` is deliberately absent: see `workerCommand`.
 */
export function renderWorkerConfig(group: WorkerGroup, input: WorkerConfigInput): string {
  throwIfInvalid([
    ...validateDatabaseSettings(input.database, "database"),
    ...validatePoolSizes(input.poolSizes, "poolSizes"),
  ]);
  const sizes = synapsePoolSizes(input.poolSizes);
  const media = group.type === "media-repository";
  return stableYaml({
    worker_app: group.app,
    worker_listeners: processListeners({ http: group.http, media, replication: group.replication }),
    worker_log_config: input.logConfigPath ?? defaultSynapseConfigPaths.log,
    database: databaseSection(input.database, group.statefulSet, sizes[group.type]),
    ...(media ? {} : { enable_media_repo: false }),
  });
}

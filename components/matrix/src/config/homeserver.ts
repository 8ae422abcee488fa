import { SizingProfileName, ValidationError, secretReason, stableYaml, throwIfInvalid } from "@keel/core";
import { SynapseDatabaseSettings, databaseSection, validateDatabaseSettings } from "./database";
import { JsonObject, JsonValue } from "./json";
import { SynapsePoolSizes, synapsePoolSizes, validatePoolSizes } from "./pools";
import { defaultSynapseConfigPaths, processListeners } from "./process";
import {
  MatrixWorkerCounts,
  SYNAPSE_MAIN,
  SYNAPSE_PORTS,
  groupInstances,
  synapseWriterStreams,
  validateWorkerCounts,
  workerGroups,
} from "./workers";

/** A Synapse module (`modules:` list), e.g. the antivirus spam-checker. Its config must hold no secret. */
export interface SynapseModule {
  /** Python import path of the module class, e.g. `synapse_async_av_checker.AsyncAvChecker`. */
  module: string;
  /** The module's own settings (no credentials: pass them as files and name the path here). */
  config: JsonObject;
}

/** Redis, required as soon as any worker exists (replication pub/sub). */
export interface SynapseRedisSettings {
  /** Service host name, e.g. `redis`. */
  host: string;
  /** @default 6379 */
  port?: number;
  /** File holding the password (a Secret volume), read by Synapse (`redis.password_path`). Unset: no auth. */
  passwordPath?: string;
}

/** TURN for 1:1 calls; the shared secret goes into the secrets file (`turnSharedSecret`). */
export interface SynapseTurnSettings {
  /** e.g. `["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349?transport=tcp"]`. */
  uris: string[];
  /** @default "1h" */
  userLifetime?: string;
  /** @default false */
  allowGuests?: boolean;
}

/** Inputs of `renderHomeserverConfig` (the shared config every process loads first). */
export interface HomeserverConfigInput {
  /** The Matrix server name (`@alice:<domain>`), served `.well-known` delegation. */
  domain: string;
  /** Host clients and federation reach Synapse at (behind HAProxy). @default `matrix.<domain>` */
  homeserverHost?: string;
  /** The worker topology. */
  counts: MatrixWorkerCounts;
  /** Where the database is; the password comes from PGPASSWORD (see `SynapseDatabaseSettings`). */
  database: SynapseDatabaseSettings;
  /** `cp_max` overrides per process kind. @default defaultSynapsePoolSizes */
  poolSizes?: Partial<SynapsePoolSizes>;
  /** Redis; required when any worker exists. @default undefined (no Redis) */
  redis?: SynapseRedisSettings;
  /** Media store directory, mounted only where the media repository runs. @default "/media/media_store" */
  mediaStorePath?: string;
  /** Largest upload, Synapse size syntax. @default "100M" */
  maxUploadSize?: string;
  /** The media store is shared (RWX volume or object store), allowing several media repositories. @default false */
  sharedMediaStore?: boolean;
  /** PEM file of a private CA trusted for outbound federation (`federation_custom_ca_list`). @default undefined */
  federationCustomCaPath?: string;
  /** Servers trusted to vouch for other servers' keys. @default [] (fetch keys from each origin; air-gap safe) */
  trustedKeyServers?: string[];
  /** Federate only with these server names (`federation_domain_whitelist`). @default undefined (any) */
  federationDomainWhitelist?: string[];
  /** Private ranges federation may reach despite the default blacklist (`ip_range_whitelist`). @default [] */
  ipRangeWhitelist?: string[];
  /** TURN for 1:1 calls. @default undefined (no TURN) */
  turn?: SynapseTurnSettings;
  /**
   * MatrixRTC group calls (Element Call over LiveKit): MSC3266, MSC4222, delayed events (MSC4140) and the
   * rate limits Element Call's self-hosting guide asks for. @default false
   */
  groupCalls?: boolean;
  /** `caches.global_factor`; see `cacheFactorFor`. @default 0.5 */
  cacheFactor?: number;
  /** The signing key file (Secret volume). @default "/secrets/signing/signing.key" */
  signingKeyPath?: string;
  /** The logging config file. @default "/conf/log.yaml" */
  logConfigPath?: string;
  /** Synapse modules (antivirus spam-checker slot). @default [] */
  modules?: SynapseModule[];
  /** Open registration. @default false */
  enableRegistration?: boolean;
}

/** `caches.global_factor` per sizing profile (the audit's 0.5 for ~100 CCU up to 4.0 for ~20k CCU). */
export function cacheFactorFor(profile: SizingProfileName): number {
  return { small: 0.5, medium: 2, large: 4 }[profile];
}

const dnsName = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
const hostName = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const absolutePath = /^\/[A-Za-z0-9._/-]+$/;
const size = /^[0-9]+[KMG]?$/;
const duration = /^[0-9]+(ms|s|m|h|d|w|y)?$/;
const pythonPath = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const turnUri = /^turns?:[^\s]+$/;
const cidr = /^[0-9a-fA-F:.]+\/[0-9]{1,3}$/;

function moduleSecretProblems(value: JsonValue, path: string, key: string): ValidationError[] {
  if (typeof value === "string") {
    const reason = secretReason(key, value);
    return reason
      ? [
          new ValidationError(
            path,
            `must not hold a secret (${reason}); mount it as a file and pass the path`,
          ),
        ]
      : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => moduleSecretProblems(v, `${path}[${i}]`, key));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => moduleSecretProblems(v, `${path}.${k}`, k));
  }
  return [];
}

/** Checks every input of `renderHomeserverConfig`; pure, errors name the field and what is allowed. */
export function validateHomeserverInput(input: HomeserverConfigInput): ValidationError[] {
  const problems: ValidationError[] = [];
  const add = (field: string, problem: string) => problems.push(new ValidationError(field, problem));
  if (typeof input.domain !== "string" || !dnsName.test(input.domain)) {
    add("domain", `must be a lower-case DNS name with a dot, got ${JSON.stringify(input.domain)}`);
  }
  if (input.homeserverHost !== undefined && !dnsName.test(input.homeserverHost)) {
    add("homeserverHost", `must be a lower-case DNS name, got ${JSON.stringify(input.homeserverHost)}`);
  }
  problems.push(
    ...validateWorkerCounts(input.counts, { field: "counts", sharedMediaStore: input.sharedMediaStore }),
  );
  problems.push(...validateDatabaseSettings(input.database, "database"));
  problems.push(...validatePoolSizes(input.poolSizes, "poolSizes"));
  const workers = problems.some((p) => p.field.startsWith("counts")) ? [] : workerGroups(input.counts);
  if (workers.length > 0 && !input.redis) {
    add("redis", "is required when workers exist (replication between Synapse processes goes through Redis)");
  }
  if (input.redis) {
    if (!hostName.test(input.redis.host ?? "")) {
      add("redis.host", `must be a lower-case DNS name, got ${JSON.stringify(input.redis.host)}`);
    }
    const port = input.redis.port ?? 6379;
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      add("redis.port", "must be an integer from 1 to 65535");
    if (input.redis.passwordPath !== undefined && !absolutePath.test(input.redis.passwordPath)) {
      add("redis.passwordPath", "must be an absolute path");
    }
  }
  for (const key of [
    "mediaStorePath",
    "federationCustomCaPath",
    "signingKeyPath",
    "logConfigPath",
  ] as const) {
    const value = input[key];
    if (value !== undefined && !absolutePath.test(value)) {
      add(key, `must be an absolute path of [A-Za-z0-9._/-], got ${JSON.stringify(value)}`);
    }
  }
  if (input.maxUploadSize !== undefined && !size.test(input.maxUploadSize)) {
    add("maxUploadSize", `must be a size like 100M or 2G, got ${JSON.stringify(input.maxUploadSize)}`);
  }
  const factor = input.cacheFactor ?? 0.5;
  if (typeof factor !== "number" || !(factor > 0 && factor <= 20)) {
    add("cacheFactor", `must be a number above 0 and at most 20, got ${JSON.stringify(factor)}`);
  }
  for (const key of ["trustedKeyServers", "federationDomainWhitelist"] as const) {
    (input[key] ?? []).forEach((s, i) => {
      if (!hostName.test(s)) add(`${key}[${i}]`, `must be a server name, got ${JSON.stringify(s)}`);
    });
  }
  (input.ipRangeWhitelist ?? []).forEach((c, i) => {
    if (!cidr.test(c))
      add(`ipRangeWhitelist[${i}]`, `must be a CIDR like 10.0.0.0/8, got ${JSON.stringify(c)}`);
  });
  if (input.turn) {
    if (!Array.isArray(input.turn.uris) || input.turn.uris.length === 0) {
      add("turn.uris", "must list at least one turn: or turns: URI");
    }
    (input.turn.uris ?? []).forEach((u, i) => {
      if (!turnUri.test(u))
        add(`turn.uris[${i}]`, `must start with turn: or turns:, got ${JSON.stringify(u)}`);
    });
    if (input.turn.userLifetime !== undefined && !duration.test(input.turn.userLifetime)) {
      add("turn.userLifetime", `must be a duration like 1h, got ${JSON.stringify(input.turn.userLifetime)}`);
    }
  }
  (input.modules ?? []).forEach((m, i) => {
    if (!pythonPath.test(m.module ?? "")) {
      add(
        `modules[${i}].module`,
        `must be a Python import path like package.Class, got ${JSON.stringify(m.module)}`,
      );
    }
    if (m.config === null || typeof m.config !== "object" || Array.isArray(m.config)) {
      add(`modules[${i}].config`, "must be an object");
    } else {
      problems.push(...moduleSecretProblems(m.config, `modules[${i}].config`, ""));
    }
  });
  return problems;
}

/** The secrets the secrets file must carry for this input (keys of `SynapseSecretValues`). */
export function requiredSynapseSecrets(input: HomeserverConfigInput): (keyof SynapseSecretValues)[] {
  return [
    "macaroonSecretKey",
    "formSecret",
    ...(workerGroups(input.counts).length > 0 ? (["workerReplicationSecret"] as const) : []),
    ...(input.turn ? (["turnSharedSecret"] as const) : []),
  ];
}

/** The HTTP replication endpoints: `main` plus every worker with a replication listener. */
export function instanceMap(counts: MatrixWorkerCounts): Record<string, { host: string; port: number }> {
  const map: Record<string, { host: string; port: number }> = {
    [SYNAPSE_MAIN.instanceMapName]: { host: SYNAPSE_MAIN.host, port: SYNAPSE_PORTS.replication },
  };
  for (const g of workerGroups(counts).filter((g) => g.replication)) {
    for (const i of groupInstances(g)) map[i.name] = { host: i.host, port: SYNAPSE_PORTS.replication };
  }
  return map;
}

/** `stream_writers`: every stream moved off main, with its writer instances. */
export function streamWritersSection(counts: MatrixWorkerCounts): Record<string, string[]> {
  const groups = workerGroups(counts);
  const section: Record<string, string[]> = {};
  for (const s of synapseWriterStreams) {
    const names = groups
      .filter((g) => g.streams.includes(s))
      .flatMap((g) => groupInstances(g).map((i) => i.name));
    if (names.length > 0) section[s] = names;
  }
  return section;
}

function instancesOf(counts: MatrixWorkerCounts, type: string): string[] {
  return workerGroups(counts)
    .filter((g) => g.type === type)
    .flatMap((g) => groupInstances(g).map((i) => i.name));
}

/**
 * homeserver.yaml, the shared config of every process (and the whole config of `main`), deterministic and
 * without any secret: secrets come from `renderSynapseSecretsConfig`'s file, the database password from
 * PGPASSWORD, the Redis password and signing key from mounted files. Throws a ValidationError naming the
 * field for bad input.
 */
export function renderHomeserverConfig(input: HomeserverConfigInput): string {
  throwIfInvalid(validateHomeserverInput(input));
  const counts = input.counts;
  const groups = workerGroups(counts);
  const workers = groups.length > 0;
  const sizes = synapsePoolSizes(input.poolSizes);
  const host = input.homeserverHost ?? `matrix.${input.domain}`;
  const mediaWorkers = instancesOf(counts, "media-repository");
  const senders = instancesOf(counts, "federation-sender");
  const pushers = instancesOf(counts, "pusher");
  const background = instancesOf(counts, "background");
  const streamWriters = streamWritersSection(counts);

  const config: JsonObject = {
    server_name: input.domain,
    public_baseurl: `https://${host}/`,
    report_stats: false,
    enable_metrics: true,
    serve_server_wellknown: false,
    enable_registration: input.enableRegistration ?? false,
    allow_guest_access: false,
    url_preview_enabled: false,
    signing_key_path: input.signingKeyPath ?? "/secrets/signing/signing.key",
    log_config: input.logConfigPath ?? defaultSynapseConfigPaths.log,
    listeners: processListeners({ http: true, media: false, replication: workers }),
    database: databaseSection(input.database, SYNAPSE_MAIN.statefulSet, sizes.main),
    caches: { global_factor: input.cacheFactor ?? 0.5 },
    media_store_path: input.mediaStorePath ?? "/media/media_store",
    max_upload_size: input.maxUploadSize ?? "100M",
    trusted_key_servers: (input.trustedKeyServers ?? []).map((s) => ({ server_name: s })),
  };
  if (input.redis) {
    config.redis = {
      enabled: true,
      host: input.redis.host,
      port: input.redis.port ?? 6379,
      ...(input.redis.passwordPath ? { password_path: input.redis.passwordPath } : {}),
    };
  }
  if (workers) config.instance_map = instanceMap(counts);
  if (Object.keys(streamWriters).length > 0) config.stream_writers = streamWriters;
  if (senders.length > 0) config.federation_sender_instances = senders;
  if (pushers.length > 0) config.pusher_instances = pushers;
  if (background.length > 0) config.run_background_tasks_on = background[0];
  if (mediaWorkers.length > 0) {
    // docs/workers.md synapse.app.media_repository: main stops serving media and its background jobs.
    config.enable_media_repo = false;
    config.media_instance_running_background_jobs = mediaWorkers[0];
  }
  if (input.federationCustomCaPath) {
    config.federation_verify_certificates = true;
    config.federation_custom_ca_list = [input.federationCustomCaPath];
  }
  if (input.federationDomainWhitelist)
    config.federation_domain_whitelist = [...input.federationDomainWhitelist];
  if (input.ipRangeWhitelist?.length) config.ip_range_whitelist = [...input.ipRangeWhitelist];
  if (input.turn) {
    config.turn_uris = [...input.turn.uris];
    config.turn_user_lifetime = input.turn.userLifetime ?? "1h";
    config.turn_allow_guests = input.turn.allowGuests ?? false;
  }
  if (input.groupCalls) {
    // element-call docs/self-hosting.md "A Matrix Homeserver": the MSCs and rate limits Element Call needs.
    config.experimental_features = { msc3266_enabled: true, msc4222_enabled: true };
    config.max_event_delay_duration = "24h";
    config.rc_message = { per_second: 0.5, burst_count: 30 };
    config.rc_delayed_event_mgmt = { per_second: 1, burst_count: 20 };
  }
  if (input.modules?.length) {
    config.modules = input.modules.map((m) => ({ module: m.module, config: m.config }));
  }
  return stableYaml(config);
}

/** The secrets Synapse reads from its secrets file (plain strings: call inside `pulumi.all(...).apply`). */
export interface SynapseSecretValues {
  /** `macaroon_secret_key`: identical on every process. */
  macaroonSecretKey: string;
  /** `form_secret`. */
  formSecret: string;
  /** `registration_shared_secret` (admin registration API). @default undefined (disabled) */
  registrationSharedSecret?: string;
  /** `worker_replication_secret`: authenticates HTTP replication; required when workers exist. */
  workerReplicationSecret?: string;
  /** `turn_shared_secret`, shared with coturn/STUNner; required when TURN is configured. */
  turnSharedSecret?: string;
}

const secretKeys: Record<keyof SynapseSecretValues, string> = {
  macaroonSecretKey: "macaroon_secret_key",
  formSecret: "form_secret",
  registrationSharedSecret: "registration_shared_secret",
  workerReplicationSecret: "worker_replication_secret",
  turnSharedSecret: "turn_shared_secret",
};

/** The top-level keys the secrets file may contain (disjoint from homeserver.yaml's keys). */
export const synapseSecretConfigKeys: readonly string[] = Object.values(secretKeys);

/** Minimum length of every secret value. */
export const MIN_SECRET_LENGTH = 16;

/** Checks secret values without ever echoing them. */
export function validateSynapseSecrets(values: SynapseSecretValues, field = "secrets"): ValidationError[] {
  const problems: ValidationError[] = [];
  for (const key of Object.keys(secretKeys) as (keyof SynapseSecretValues)[]) {
    const v = values[key];
    const required = key === "macaroonSecretKey" || key === "formSecret";
    if (v === undefined && !required) continue;
    if (typeof v !== "string" || v.length < MIN_SECRET_LENGTH) {
      problems.push(
        new ValidationError(
          `${field}.${key}`,
          `must be a string of at least ${MIN_SECRET_LENGTH} characters`,
        ),
      );
    }
  }
  for (const key of Object.keys(values)) {
    if (!(key in secretKeys)) {
      problems.push(
        new ValidationError(`${field}.${key}`, `unknown secret; use ${Object.keys(secretKeys).join(", ")}`),
      );
    }
  }
  return problems;
}

/**
 * secrets.yaml, the second `--config-path` of every process: only top-level secret keys, so Synapse's
 * top-level merge never drops a section of homeserver.yaml. Values are emitted as JSON-quoted YAML scalars,
 * so no value can inject YAML. The component builds a Kubernetes Secret's stringData from it.
 */
export function renderSynapseSecretsConfig(values: SynapseSecretValues): string {
  throwIfInvalid(validateSynapseSecrets(values));
  const out: JsonObject = {};
  for (const [key, name] of Object.entries(secretKeys) as [keyof SynapseSecretValues, string][]) {
    const v = values[key];
    if (v !== undefined) out[name] = v;
  }
  return stableYaml(out);
}

import { ConnectionConsumer, ValidationError } from "@keel/core";
import { MatrixWorkerCounts, SYNAPSE_MAIN, WorkerMaxReplicas, WorkerType, workerGroups } from "./workers";

/*
 * Database connections of Synapse. Every process (main and each worker pod) opens its own Twisted adbapi pool
 * of at most `cp_max` connections. In front of PostgreSQL, PgBouncer must run in SESSION mode (Synapse sets
 * session-level parameters per connection), where each client connection holds one server connection:
 * nothing is multiplexed, so PostgreSQL must accept Σ(processes × cp_max).
 */

/** A kind of Synapse process: `main` or a worker type. */
export type SynapseProcessKind = "main" | WorkerType;

/** `cp_max` per process of each kind. */
export type SynapsePoolSizes = Record<SynapseProcessKind, number>;

/** Defaults: busy request handlers and persisters 10 (Synapse's default), background roles 5. */
export const defaultSynapsePoolSizes: Readonly<SynapsePoolSizes> = {
  main: 10,
  synchrotron: 10,
  "client-reader": 10,
  "federation-reader": 10,
  "federation-inbound": 10,
  "event-creator": 10,
  "event-persister": 10,
  "federation-sender": 5,
  "media-repository": 5,
  pusher: 5,
  background: 5,
  "stream-writer": 5,
};

/** Largest accepted `cp_max` (a typo guard). */
export const MAX_POOL_SIZE = 100;

/** Defaults with overrides applied. */
export function synapsePoolSizes(overrides: Partial<SynapsePoolSizes> = {}): SynapsePoolSizes {
  return { ...defaultSynapsePoolSizes, ...overrides };
}

/** Checks pool-size overrides: known kinds, integers from 1 to MAX_POOL_SIZE. */
export function validatePoolSizes(
  overrides: Partial<SynapsePoolSizes> = {},
  field = "poolSizes",
): ValidationError[] {
  const problems: ValidationError[] = [];
  for (const [kind, value] of Object.entries(overrides)) {
    if (!(kind in defaultSynapsePoolSizes)) {
      problems.push(
        new ValidationError(
          `${field}.${kind}`,
          `unknown process kind; use one of ${Object.keys(defaultSynapsePoolSizes).join(", ")}`,
        ),
      );
    } else if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_POOL_SIZE) {
      problems.push(
        new ValidationError(
          `${field}.${kind}`,
          `must be an integer from 1 to ${MAX_POOL_SIZE}, got ${JSON.stringify(value)}`,
        ),
      );
    }
  }
  return problems;
}

/** `cp_min` for a `cp_max`: a few warm connections, never more than the maximum. */
export function poolMinimum(cpMax: number): number {
  return Math.min(5, cpMax);
}

/** Where pool sizes and scale come from. */
export interface SynapsePoolOptions {
  /** `cp_max` overrides per process kind. @default defaultSynapsePoolSizes */
  poolSizes?: Partial<SynapsePoolSizes>;
  /** HPA upper bounds: consumers are counted at their largest scale. @default {} */
  maxReplicas?: WorkerMaxReplicas;
}

/**
 * Synapse as connection consumers for core's `checkConnectionBudget`: `synapse-main` plus one consumer per
 * worker StatefulSet, each with its `cp_max` and its pods at the largest scale.
 */
export function synapseConnectionConsumers(
  counts: MatrixWorkerCounts,
  opts: SynapsePoolOptions = {},
): ConnectionConsumer[] {
  const sizes = synapsePoolSizes(opts.poolSizes);
  return [
    { name: SYNAPSE_MAIN.statefulSet, poolSize: sizes.main, maxReplicas: 1 },
    ...workerGroups(counts, opts.maxReplicas).map((g) => ({
      name: g.statefulSet,
      poolSize: sizes[g.type],
      maxReplicas: g.maxReplicas,
    })),
  ];
}

/** Σ(pool × replicas) of consumers. */
export function totalConnections(consumers: ConnectionConsumer[]): number {
  return consumers.reduce((sum, c) => sum + c.poolSize * c.maxReplicas, 0);
}

/** PgBouncer settings for Synapse's database (session mode). */
export interface PgBouncerSizing {
  /** Always `session`: Synapse needs session-level state. */
  poolMode: "session";
  /** Σ(processes × cp_max): every Synapse connection may be open at once. */
  synapseConnections: number;
  /** `default_pool_size` (per database/user pair): ≥ every Synapse connection, since one replica may get them all. */
  defaultPoolSize: number;
  /** `max_db_connections`: the same bound per PgBouncer replica. */
  maxDbConnections: number;
  /** `max_client_conn`: Synapse's connections plus `clientHeadroom` for admin and exporter clients. */
  maxClientConn: number;
  /**
   * Worst case of server connections PgBouncer holds on PostgreSQL: replicas × pool size (an idle server
   * connection stays pooled on one replica while its client reconnects through another).
   */
  serverConnections: number;
}

/** Inputs of `pgbouncerSizing`. */
export interface PgBouncerSizingInput extends SynapsePoolOptions {
  counts: MatrixWorkerCounts;
  /** PgBouncer replicas. @default 1 */
  pgbouncerReplicas?: number;
  /** Extra client connections for administration and exporters. @default 10 */
  clientHeadroom?: number;
}

/** Sizes PgBouncer (session mode) for Synapse: pool = Σ cp_max at the largest scale. */
export function pgbouncerSizing(input: PgBouncerSizingInput): PgBouncerSizing {
  const synapseConnections = totalConnections(synapseConnectionConsumers(input.counts, input));
  const replicas = input.pgbouncerReplicas ?? 1;
  return {
    poolMode: "session",
    synapseConnections,
    defaultPoolSize: synapseConnections,
    maxDbConnections: synapseConnections,
    maxClientConn: synapseConnections + (input.clientHeadroom ?? 10),
    serverConnections: synapseConnections * replicas,
  };
}

/** Inputs of `checkSynapsePoolBudget`. */
export interface SynapsePoolBudgetInput extends SynapsePoolOptions {
  counts: MatrixWorkerCounts;
  /** PostgreSQL `max_connections`. */
  maxConnections: number;
  /** Connections kept for superuser and maintenance. */
  reservedConnections: number;
  /** PgBouncer replicas between Synapse and PostgreSQL (0: Synapse connects directly). @default 1 */
  pgbouncerReplicas?: number;
  /** Other clients of the same PostgreSQL (exporters, admin UIs, the LI replication slot…). @default [] */
  otherConsumers?: ConnectionConsumer[];
  /** Field path of the database settings in error messages. @default "postgres" */
  field?: string;
}

/**
 * Checks that PostgreSQL accepts every Synapse connection at the largest scale (audit F16), and explains the
 * arithmetic when it does not, e.g.
 * `postgres.maxConnections: Synapse needs 130 connections at its largest scale (synapse-main 10×1 + …) …`.
 */
export function checkSynapsePoolBudget(input: SynapsePoolBudgetInput): ValidationError[] {
  const field = input.field ?? "postgres";
  const consumers = synapseConnectionConsumers(input.counts, input);
  const synapse = totalConnections(consumers);
  const bouncers = input.pgbouncerReplicas ?? 1;
  const viaBouncer = bouncers > 0 ? synapse * bouncers : synapse;
  const others = input.otherConsumers ?? [];
  const otherTotal = totalConnections(others);
  const needed = viaBouncer + otherTotal;
  const available = input.maxConnections - input.reservedConnections;
  if (needed <= available) return [];
  const terms = consumers.map((c) => `${c.name} ${c.poolSize}×${c.maxReplicas}`).join(" + ");
  const bouncerText =
    bouncers > 0
      ? `; PgBouncer in session mode holds one server connection per client connection, on each of ${bouncers} replica(s): ${synapse} × ${bouncers} = ${viaBouncer}`
      : "";
  const otherText =
    others.length > 0
      ? `; other consumers ${others.map((c) => `${c.name} ${c.poolSize}×${c.maxReplicas}`).join(" + ")} = ${otherTotal}`
      : "";
  return [
    new ValidationError(
      `${field}.maxConnections`,
      `Synapse needs ${synapse} connections at its largest scale (cp_max × pods: ${terms})${bouncerText}${otherText}; total ${needed} but max_connections ${input.maxConnections} − reservedConnections ${input.reservedConnections} = ${available}; raise ${field}.maxConnections or lower poolSizes, worker counts or maxReplicas`,
    ),
  ];
}

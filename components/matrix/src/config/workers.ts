import { SizingProfileName, ValidationError } from "@keel/core";

/*
 * The Synapse worker model. Facts from synapse docs/workers.md (element-hq/synapse, the version that documents
 * the `push_rules` and `device_lists` stream writers) and synapse/config/workers.py:
 * - "Stream writers": "each stream can only have a single writer" unless documented otherwise; `events`
 *   ("The `events` stream"), `receipts` ("The `receipts` stream") and `device_lists` ("The `device_lists`
 *   stream") support several writers. workers.py refuses more than one writer for typing, to_device,
 *   account_data and presence.
 * - A stream writer needs an HTTP `replication` listener and an entry in `instance_map`, as does `main`.
 * - "The `events` stream": adding or removing event persisters needs a restart of every worker.
 * - "synapse.app.media_repository": several media repositories "must be on the same server" (share one
 *   media store) and one of them runs the background jobs (`media_instance_running_background_jobs`).
 * - "Background tasks": `run_background_tasks_on` names one instance.
 * - Federation senders, pushers, background workers and event persisters serve no client/federation routes.
 */

/** Ports of every Synapse process. Each process is its own pod, so the same numbers never collide. */
export const SYNAPSE_PORTS = {
  /** Client + federation HTTP (`x_forwarded`), what HAProxy routes to. */
  http: 8008,
  /** `health` resource only: `GET /health` for probes and HAProxy checks. */
  health: 8080,
  /** HTTP replication between Synapse processes; never exposed outside the namespace. */
  replication: 9093,
  /** Prometheus metrics (`type: metrics`). */
  metrics: 9000,
} as const;

/** Streams that can move off the main process to dedicated writers (besides `events`). */
export const synapseStreams = [
  "typing",
  "to_device",
  "account_data",
  "receipts",
  "presence",
  "push_rules",
  "device_lists",
] as const;
export type SynapseStream = (typeof synapseStreams)[number];

/**
 * Every stream a worker can write: the `events` stream of event persisters, the configurable streams above,
 * and `quarantined_media_changes` (Synapse ≥ 1.163), which the media repository writes when it is a worker:
 * only it serves the media admin API, and quarantining from a process that cannot write the stream fails
 * with a 500 (AssertionError in `_insert_quarantine_changes_txn`).
 */
export type SynapseWriterStream = "events" | SynapseStream | "quarantined_media_changes";

/** Every stream `stream_writers` may name, in the order it is rendered. */
export const synapseWriterStreams: readonly SynapseWriterStream[] = [
  "events",
  ...synapseStreams,
  "quarantined_media_changes",
];

/** How many writers each stream gets (0 = the main process writes it). */
export interface StreamWriterCounts {
  /** Single writer only. @default 0 */
  typing: number;
  /** Single writer only. @default 0 */
  toDevice: number;
  /** Single writer only. @default 0 */
  accountData: number;
  /** Several writers allowed when not consolidated. @default 0 */
  receipts: number;
  /** Single writer only. @default 0 */
  presence: number;
  /** Single writer only. @default 0 */
  pushRules: number;
  /** Several writers allowed when not consolidated. @default 0 */
  deviceLists: number;
}

/** The processes of one Synapse deployment besides `main`. Counts are replicas (pods) per worker type. */
export interface MatrixWorkerCounts {
  /** `/sync`, `/events`, `/initialSync`, balanced by access token. Autoscalable. */
  synchrotron: number;
  /** Client reads, login/registration, keys, pagination (balanced by room). Autoscalable. */
  clientReader: number;
  /** Federation reads (state, backfill, joins, queries). Autoscalable. */
  federationReader: number;
  /** Inbound federation transactions `/_matrix/federation/v1/send/`, balanced by source IP. Autoscalable. */
  federationInbound: number;
  /** Event sending (send, state, redact, membership, profile), balanced by room. Autoscalable. */
  eventCreator: number;
  /** Writers of the `events` stream, sharded by room; changing the number needs a restart of all workers. */
  eventPersister: number;
  /** Outbound federation (`federation_sender_instances`); changing the number needs a full restart. */
  federationSender: number;
  /** The media repository; more than 1 needs a shared media store. */
  mediaRepository: number;
  /** Push notifications (`pusher_instances`). */
  pusher: number;
  /** 0 or 1: the worker named by `run_background_tasks_on`. */
  background: number;
  /** Writers of the other streams. */
  streamWriters: StreamWriterCounts;
  /**
   * When true, one `synapse-stream-writer` pod writes every enabled stream (each count must then be 0 or 1);
   * when false, each stream gets its own StatefulSet (`synapse-typing-writer`, …).
   */
  consolidateStreamWriters: boolean;
}

/** The role of a worker group. */
export type WorkerType =
  | "synchrotron"
  | "client-reader"
  | "federation-reader"
  | "federation-inbound"
  | "event-creator"
  | "event-persister"
  | "federation-sender"
  | "media-repository"
  | "pusher"
  | "background"
  | "stream-writer";

/** Worker types that hold no state keyed by instance name and may therefore run under an HPA. */
export const autoscalableWorkerTypes: readonly WorkerType[] = [
  "synchrotron",
  "client-reader",
  "federation-reader",
  "federation-inbound",
  "event-creator",
];

/** The counts fields of worker types that can autoscale, for `maxReplicas`. */
export type AutoscalableWorkerKey =
  "synchrotron" | "clientReader" | "federationReader" | "federationInbound" | "eventCreator";

/** Upper bounds of autoscaled worker types (HPA maxReplicas); the counts are the minimum. */
export type WorkerMaxReplicas = Partial<Record<AutoscalableWorkerKey, number>>;

/** The Synapse app module a worker runs. */
export type SynapseWorkerApp = "synapse.app.generic_worker" | "synapse.app.media_repository";

/**
 * One StatefulSet of identical workers. Its headless Service has the same name; pods are
 * `<statefulSet>-<ordinal>` and each pod's Synapse `worker_name` is its pod name.
 */
export interface WorkerGroup {
  /** Short name, unique per deployment: the routing backend name, e.g. `synchrotron`, `typing-writer`. */
  name: string;
  type: WorkerType;
  /** `synapse-<name>`: the StatefulSet, its headless Service and the HAProxy backend. */
  statefulSet: string;
  /** Pods at the configured scale. */
  replicas: number;
  /** Pods at the largest scale (HPA maxReplicas for autoscalable groups, else `replicas`). */
  maxReplicas: number;
  app: SynapseWorkerApp;
  /** Streams this group writes (event persisters: `events`). */
  streams: SynapseWriterStream[];
  /** Serves client/federation routes on `SYNAPSE_PORTS.http`. */
  http: boolean;
  /** Has a replication listener on `SYNAPSE_PORTS.replication` and appears in `instance_map`. */
  replication: boolean;
  /** Stateless reader: safe to run under an HPA. */
  autoscalable: boolean;
}

/** One worker process (pod) as Synapse knows it. */
export interface WorkerInstance {
  /** Synapse `worker_name` = the pod name, e.g. `synapse-synchrotron-0`. */
  name: string;
  /** The group (routing backend) name, e.g. `synchrotron`. */
  group: string;
  type: WorkerType;
  statefulSet: string;
  ordinal: number;
  /**
   * `<pod>.<headless Service>`: resolvable from any pod of the same namespace through the resolv.conf search
   * path. The headless Service should set `publishNotReadyAddresses: true` so replication peers resolve while
   * a pod starts; HAProxy's own health checks keep unready pods out of client traffic.
   */
  host: string;
  /** Client/federation port, when the worker serves routes. */
  httpPort?: number;
  /** Replication port, when the worker is in `instance_map`. */
  replicationPort?: number;
  healthPort: number;
  metricsPort: number;
  autoscalable: boolean;
}

/** The main process: a one-pod StatefulSet `synapse-main` with the headless Service `synapse-main`. */
export const SYNAPSE_MAIN = {
  /** Name in `instance_map` (Synapse's required key for the main process). */
  instanceMapName: "main",
  /** Routing backend name. */
  group: "main",
  statefulSet: "synapse-main",
  pod: "synapse-main-0",
  host: "synapse-main-0.synapse-main",
} as const;

/** The env var the component must set from the downward API (`metadata.name`) in every worker pod. */
export const WORKER_NAME_ENV = "POD_NAME";

interface GroupSpec {
  key: Exclude<keyof MatrixWorkerCounts, "streamWriters" | "consolidateStreamWriters">;
  type: Exclude<WorkerType, "stream-writer">;
  app: SynapseWorkerApp;
  http: boolean;
  replication: boolean;
  streams: SynapseWriterStream[];
}

const generic: SynapseWorkerApp = "synapse.app.generic_worker";

// Fixed order: the order of instance lists in homeserver.yaml and of HAProxy backends.
const groupSpecs: GroupSpec[] = [
  { key: "synchrotron", type: "synchrotron", app: generic, http: true, replication: false, streams: [] },
  { key: "clientReader", type: "client-reader", app: generic, http: true, replication: false, streams: [] },
  {
    key: "federationReader",
    type: "federation-reader",
    app: generic,
    http: true,
    replication: false,
    streams: [],
  },
  {
    key: "federationInbound",
    type: "federation-inbound",
    app: generic,
    http: true,
    replication: false,
    streams: [],
  },
  { key: "eventCreator", type: "event-creator", app: generic, http: true, replication: false, streams: [] },
  {
    key: "eventPersister",
    type: "event-persister",
    app: generic,
    http: false,
    replication: true,
    streams: ["events"],
  },
  {
    key: "federationSender",
    type: "federation-sender",
    app: generic,
    http: false,
    replication: false,
    streams: [],
  },
  {
    key: "mediaRepository",
    type: "media-repository",
    app: "synapse.app.media_repository",
    http: true,
    replication: true,
    streams: ["quarantined_media_changes"],
  },
  { key: "pusher", type: "pusher", app: generic, http: false, replication: false, streams: [] },
  { key: "background", type: "background", app: generic, http: false, replication: false, streams: [] },
];

/** Stream → its field in `StreamWriterCounts` and the group name it gets when not consolidated. */
export const streamWriterFields: Record<SynapseStream, { field: keyof StreamWriterCounts; group: string }> = {
  typing: { field: "typing", group: "typing-writer" },
  to_device: { field: "toDevice", group: "to-device-writer" },
  account_data: { field: "accountData", group: "account-data-writer" },
  receipts: { field: "receipts", group: "receipts-writer" },
  presence: { field: "presence", group: "presence-writer" },
  push_rules: { field: "pushRules", group: "push-rules-writer" },
  device_lists: { field: "deviceLists", group: "device-lists-writer" },
};

/** Streams Synapse allows several writers for (docs/workers.md "Stream writers"). */
export const multiWriterStreams: readonly SynapseWriterStream[] = ["events", "receipts", "device_lists"];

const noStreamWriters: StreamWriterCounts = {
  typing: 0,
  toDevice: 0,
  accountData: 0,
  receipts: 0,
  presence: 0,
  pushRules: 0,
  deviceLists: 0,
};

const allStreamWriters: StreamWriterCounts = {
  typing: 1,
  toDevice: 1,
  accountData: 1,
  receipts: 1,
  presence: 1,
  pushRules: 1,
  deviceLists: 1,
};

/** A deployment with no workers: the main process does everything (no Redis needed). */
export const monolithWorkerCounts: MatrixWorkerCounts = {
  synchrotron: 0,
  clientReader: 0,
  federationReader: 0,
  federationInbound: 0,
  eventCreator: 0,
  eventPersister: 0,
  federationSender: 0,
  mediaRepository: 0,
  pusher: 0,
  background: 0,
  streamWriters: noStreamWriters,
  consolidateStreamWriters: true,
};

const defaults: Record<SizingProfileName, MatrixWorkerCounts> = {
  // One of each type, every stream on one consolidated writer: the whole topology at the smallest cost.
  small: {
    synchrotron: 1,
    clientReader: 1,
    federationReader: 1,
    federationInbound: 1,
    eventCreator: 1,
    eventPersister: 1,
    federationSender: 1,
    mediaRepository: 1,
    pusher: 1,
    background: 1,
    streamWriters: allStreamWriters,
    consolidateStreamWriters: true,
  },
  medium: {
    synchrotron: 2,
    clientReader: 2,
    federationReader: 2,
    federationInbound: 2,
    eventCreator: 2,
    eventPersister: 2,
    federationSender: 2,
    mediaRepository: 1,
    pusher: 1,
    background: 1,
    streamWriters: allStreamWriters,
    consolidateStreamWriters: false,
  },
  large: {
    synchrotron: 4,
    clientReader: 3,
    federationReader: 3,
    federationInbound: 3,
    eventCreator: 3,
    eventPersister: 4,
    federationSender: 4,
    mediaRepository: 1,
    pusher: 2,
    background: 1,
    streamWriters: { ...allStreamWriters, receipts: 2, deviceLists: 2 },
    consolidateStreamWriters: false,
  },
};

/** Worker counts for a sizing profile (a fresh copy each call). */
export function defaultWorkerCounts(profile: SizingProfileName): MatrixWorkerCounts {
  const d = defaults[profile];
  return { ...d, streamWriters: { ...d.streamWriters } };
}

/** Options of `validateWorkerCounts`. */
export interface WorkerCountsOptions {
  /** The media store is shared by several pods (ReadWriteMany volume or an object-store provider). @default false */
  sharedMediaStore?: boolean;
  /** HPA upper bounds of autoscalable types. @default {} */
  maxReplicas?: WorkerMaxReplicas;
  /** Field path prefix used in error messages. @default "workers" */
  field?: string;
}

/** Largest count accepted for any worker type (a typo guard, not a Synapse limit). */
export const MAX_WORKERS_PER_TYPE = 64;

const singleWriterReason: Record<SynapseStream, string> = {
  typing: "Synapse allows one writer of the typing stream",
  to_device: "Synapse allows one writer of the to_device stream",
  account_data: "Synapse allows one writer of the account_data stream",
  presence: "Synapse allows one writer of the presence stream",
  push_rules: "Synapse allows one writer of the push_rules stream",
  receipts: "",
  device_lists: "",
};

function countProblem(field: string, value: unknown, max: number): ValidationError | undefined {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    return new ValidationError(field, `must be an integer from 0 to ${max}, got ${JSON.stringify(value)}`);
  }
  return undefined;
}

/**
 * Checks worker counts against what Synapse supports. Pure; returns every problem with its field path,
 * e.g. `workers.streamWriters.typing: must be 0 or 1 (Synapse allows one writer of the typing stream)`.
 */
export function validateWorkerCounts(
  counts: MatrixWorkerCounts,
  opts: WorkerCountsOptions = {},
): ValidationError[] {
  const f = opts.field ?? "workers";
  const problems: ValidationError[] = [];
  const push = (p: ValidationError | undefined) => p && problems.push(p);
  for (const spec of groupSpecs)
    push(countProblem(`${f}.${spec.key}`, counts[spec.key], MAX_WORKERS_PER_TYPE));
  if (counts.background > 1) {
    problems.push(
      new ValidationError(
        `${f}.background`,
        `must be 0 or 1: run_background_tasks_on names a single instance, got ${counts.background}`,
      ),
    );
  }
  if (counts.mediaRepository > 1 && !opts.sharedMediaStore) {
    problems.push(
      new ValidationError(
        `${f}.mediaRepository`,
        `must be 0 or 1 without a shared media store (several media repositories must share one store); got ${counts.mediaRepository}, set sharedMediaStore or use 1`,
      ),
    );
  }
  if (typeof counts.consolidateStreamWriters !== "boolean") {
    problems.push(new ValidationError(`${f}.consolidateStreamWriters`, "must be true or false"));
  }
  const sw = counts.streamWriters ?? ({} as StreamWriterCounts);
  for (const stream of synapseStreams) {
    const { field } = streamWriterFields[stream];
    const path = `${f}.streamWriters.${field}`;
    const value = sw[field];
    const p = countProblem(path, value, MAX_WORKERS_PER_TYPE);
    if (p) {
      problems.push(p);
      continue;
    }
    if (value <= 1) continue;
    if (!multiWriterStreams.includes(stream)) {
      problems.push(
        new ValidationError(path, `must be 0 or 1 (${singleWriterReason[stream]}), got ${value}`),
      );
    } else if (counts.consolidateStreamWriters) {
      problems.push(
        new ValidationError(
          path,
          `must be 0 or 1 while consolidateStreamWriters is true (the consolidated writer is one pod); got ${value}, set consolidateStreamWriters: false for several ${stream} writers`,
        ),
      );
    }
  }
  const max = opts.maxReplicas ?? {};
  for (const [key, value] of Object.entries(max)) {
    const spec = groupSpecs.find((s) => s.key === key);
    if (!spec || !autoscalableWorkerTypes.includes(spec.type)) {
      problems.push(
        new ValidationError(
          `${f}.maxReplicas.${key}`,
          `only stateless readers can autoscale (synchrotron, clientReader, federationReader, federationInbound, eventCreator); persisters, senders, pushers, media and stream writers are named in homeserver.yaml and need a restart to change`,
        ),
      );
      continue;
    }
    const min = counts[spec.key];
    if (
      typeof value !== "number" ||
      !Number.isInteger(value) ||
      value < min ||
      value > MAX_WORKERS_PER_TYPE
    ) {
      problems.push(
        new ValidationError(
          `${f}.maxReplicas.${key}`,
          `must be an integer from ${f}.${key} (${min}) to ${MAX_WORKERS_PER_TYPE}, got ${JSON.stringify(value)}`,
        ),
      );
    }
  }
  return problems;
}

/** True when at least one worker exists (then Redis and the replication listener are required). */
export function hasWorkers(counts: MatrixWorkerCounts): boolean {
  return workerGroups(counts).length > 0;
}

/**
 * The worker StatefulSets for the counts, in a fixed order (groups with 0 replicas are left out).
 * Stream writers form one `stream-writer` group when consolidated, else one group per stream.
 */
export function workerGroups(counts: MatrixWorkerCounts, maxReplicas: WorkerMaxReplicas = {}): WorkerGroup[] {
  const groups: WorkerGroup[] = [];
  for (const spec of groupSpecs) {
    const replicas = counts[spec.key];
    if (replicas <= 0) continue;
    const autoscalable = autoscalableWorkerTypes.includes(spec.type);
    const max = autoscalable ? (maxReplicas[spec.key as AutoscalableWorkerKey] ?? replicas) : replicas;
    groups.push({
      name: spec.type,
      type: spec.type,
      statefulSet: `synapse-${spec.type}`,
      replicas,
      maxReplicas: Math.max(max, replicas),
      app: spec.app,
      streams: [...spec.streams],
      http: spec.http,
      replication: spec.replication,
      autoscalable,
    });
  }
  const enabled = synapseStreams.filter((s) => counts.streamWriters[streamWriterFields[s].field] > 0);
  const writer = (name: string, replicas: number, streams: SynapseStream[]): WorkerGroup => ({
    name,
    type: "stream-writer",
    statefulSet: `synapse-${name}`,
    replicas,
    maxReplicas: replicas,
    app: generic,
    streams,
    http: true,
    replication: true,
    autoscalable: false,
  });
  if (counts.consolidateStreamWriters) {
    if (enabled.length > 0) groups.push(writer("stream-writer", 1, enabled));
  } else {
    for (const s of enabled) {
      groups.push(
        writer(streamWriterFields[s].group, counts.streamWriters[streamWriterFields[s].field], [s]),
      );
    }
  }
  return groups;
}

/** The pods of a group at its configured scale (ordinals 0 … replicas − 1). */
export function groupInstances(group: WorkerGroup): WorkerInstance[] {
  return Array.from({ length: group.replicas }, (_, ordinal) => {
    const name = `${group.statefulSet}-${ordinal}`;
    return {
      name,
      group: group.name,
      type: group.type,
      statefulSet: group.statefulSet,
      ordinal,
      host: `${name}.${group.statefulSet}`,
      ...(group.http ? { httpPort: SYNAPSE_PORTS.http } : {}),
      ...(group.replication ? { replicationPort: SYNAPSE_PORTS.replication } : {}),
      healthPort: SYNAPSE_PORTS.health,
      metricsPort: SYNAPSE_PORTS.metrics,
      autoscalable: group.autoscalable,
    };
  });
}

/** Every worker process at the configured scale, group by group in a fixed order. */
export function workerInstances(counts: MatrixWorkerCounts): WorkerInstance[] {
  return workerGroups(counts).flatMap(groupInstances);
}

/** The instance names writing `stream` (empty: the main process writes it). */
export function streamWriterInstances(counts: MatrixWorkerCounts, stream: SynapseWriterStream): string[] {
  return workerGroups(counts)
    .filter((g) => g.streams.includes(stream))
    .flatMap((g) => groupInstances(g).map((i) => i.name));
}

/** The group whose StatefulSet is `synapse-<name>`, for a routing backend name. */
export function findWorkerGroup(counts: MatrixWorkerCounts, name: string): WorkerGroup | undefined {
  return workerGroups(counts).find((g) => g.name === name);
}

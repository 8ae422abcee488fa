import {
  Autoscaling,
  ImageResolver,
  NetworkPeer,
  ResourceSpec,
  SecretKeyRef,
  SizingProfile,
  ValidationError,
  parseMemory,
  validateResources,
} from "@keel/core";
import * as pulumi from "@pulumi/pulumi";
import { antivirusSize, clamdMinMemoryBytes, defaultSignatureMemory, scanHeadroomBytes } from "./sizes";

/**
 * Where freshclam gets signatures. `internet`: ClamAV's CDN (database.clamav.net), refused when the site is
 * air-gapped. `mirror`: the site's private mirror (e.g. served by cvdupdate), with its network location so
 * the NetworkPolicy allows exactly that and nothing else.
 */
export type SignatureSource =
  | { mode: "internet" }
  | {
      mode: "mirror";
      /** e.g. "http://clamav-mirror.site.internal" (freshclam `PrivateMirror`). */
      url: string;
      /** Where the mirror is on the network, e.g. `{ cidr: "10.20.0.5/32" }` or `{ namespace: "mirrors", app: "clamav-mirror" }`; the port comes from `url`. */
      peer: NetworkPeer;
    };

/** Where the Redis that carries the scan queue is (the Matrix platform's own Redis). */
export interface ScanQueueLocation {
  /** Service DNS name, e.g. "redis" (same namespace) or "redis.matrix.svc". */
  host: string;
  /** @default 6379 */
  port?: number;
  /** Who the workers connect to, for their egress policy. @default { app: host } when host is a bare Service name */
  peer?: NetworkPeer;
}

/** The Redis that carries the scan queue, with its password. */
export interface ScanQueue extends ScanQueueLocation {
  /** The Redis password. */
  passwordRef: SecretKeyRef;
}

/** What happens to media that cannot be scanned (clamd or the queue unavailable, retries exhausted). */
export type FailMode = "closed" | "open";

export interface AntivirusArgs {
  /** The Matrix namespace (created by the caller). */
  namespace: pulumi.Input<string>;
  /** `app.kubernetes.io/part-of`. @default "matrix" */
  partOf?: string;
  /** Replicas and sizes of clamd and the workers. */
  sizing: SizingProfile;
  /** Resolves the pinned `clamav` and `python` images (private registry applied). */
  images: ImageResolver;
  /** The homeserver's `server_name` (origin of local media). */
  serverName: string;
  /** Synapse's `max_upload_size` in its own notation ("50M", "512K" or bytes); clamd's stream and file limits follow it. @default "50M" */
  maxUploadSize?: string | number;
  /** Files up to this size are scanned while the upload waits; larger local uploads are queued. @default "10M" */
  syncScanMaxSize?: string | number;
  /** Uploads when clamd or the queue is unavailable, and media whose scan keeps failing: refused/quarantined (`closed`) or let through (`open`). @default "closed" */
  failMode?: FailMode;
  /** No network at the site: only `signatureSource.mode: "mirror"` is allowed. @default false */
  airGapped?: boolean;
  signatureSource: SignatureSource;
  /** freshclam checks per day (1–50). @default 12 */
  signatureChecksPerDay?: number;
  /** clamd replicas (a PDB when more than one). @default sizing.replicas */
  clamdReplicas?: number;
  /** clamd requests and limits; the memory limit must be at least 3Gi. @default the sizing profile's */
  clamdResources?: ResourceSpec;
  /** Memory the loaded signature database takes; decides whether reloads may run beside scanning. @default "1280Mi" */
  signatureMemory?: string;
  /** The Redis carrying `queueStream`. */
  queue: ScanQueue;
  /** @default "av:scan" */
  queueStream?: string;
  /** @default "av:results" */
  resultsStream?: string;
  /** @default "av:dead" */
  deadLetterStream?: string;
  /** Deliveries of one queue entry before it goes to the dead-letter stream. @default 5 */
  maxAttempts?: number;
  /** Scan workers' HPA (CPU). @default { minReplicas: sizing.replicas, maxReplicas: 3 × sizing.replicas } */
  workerAutoscaling?: Autoscaling;
  /** @default the sizing profile's */
  workerResources?: ResourceSpec;
  /**
   * Base URL of the Synapse process serving media: downloads and the media admin API (quarantine), e.g.
   * "http://synapse-media-repository:8008" (main when no media repository worker runs).
   */
  synapseMediaUrl: string;
  /** Base URL of main, where the workers register or log in their admin user, e.g. "http://synapse-main:8008". */
  synapseAdminUrl: string;
  /** The Synapse pods the workers download from and quarantine through (with ports). */
  synapsePeers: NetworkPeer[];
  /**
   * A Synapse admin access token (for quarantine and authenticated media downloads). @default undefined
   * (then `adminLogin` is required)
   */
  adminTokenRef?: SecretKeyRef;
  /**
   * The workers' own admin user instead of a token: registered on first start through Synapse's
   * registration shared secret, logged in with its generated password afterwards. @default undefined
   */
  adminLogin?: { user?: string; passwordRef: SecretKeyRef; registrationSecretRef: SecretKeyRef };
  /** The Synapse processes that load the module and connect to clamd. @default [] */
  scanClients?: NetworkPeer[];
}

/**
 * AntivirusArgs without the Secrets it reads (the queue's password, the admin token or login): what can be
 * decided, validated and resolved before any Secret exists (the Matrix platform plans it).
 */
export interface AntivirusSettings extends Omit<AntivirusArgs, "queue" | "adminTokenRef" | "adminLogin"> {
  queue: ScanQueueLocation;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
const serverNameRe = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;
const streamRe = /^[A-Za-z0-9:._-]{1,64}$/;

/** Parses a size in Synapse's notation (`parse_size`: a number of bytes, or a number with K or M, ×1024). */
export function parseSynapseSize(value: string | number, field: string): number {
  if (typeof value === "number") {
    if (Number.isInteger(value) && value > 0) return value;
  } else {
    const m = /^(\d+)([KM])?$/.exec(value.trim());
    if (m) {
      const n = Number(m[1]) * (m[2] === "M" ? 1024 ** 2 : m[2] === "K" ? 1024 : 1);
      if (n > 0) return n;
    }
  }
  throw new ValidationError(
    field,
    `"${value}" is not a size in Synapse's notation (bytes, or a number with K or M, e.g. 50M)`,
  );
}

/** The URL's host and port (default 80/443), or a problem. */
export function urlHostPort(url: string): { host: string; port: number; scheme: string } | undefined {
  const m = /^(https?):\/\/([a-z0-9.-]+)(?::(\d{1,5}))?(\/[^\s]*)?$/i.exec(url);
  if (!m) return undefined;
  const port = m[3] ? Number(m[3]) : m[1].toLowerCase() === "https" ? 443 : 80;
  if (port < 1 || port > 65535) return undefined;
  return { scheme: m[1].toLowerCase(), host: m[2].toLowerCase(), port };
}

/** Every default filled in; call after validation. */
export function resolveAntivirusArgs(args: AntivirusSettings) {
  const replicas = args.sizing.replicas;
  const queuePort = args.queue.port ?? 6379;
  return {
    partOf: args.partOf ?? "matrix",
    maxUploadBytes: parseSynapseSize(args.maxUploadSize ?? "50M", "maxUploadSize"),
    syncScanMaxBytes: parseSynapseSize(args.syncScanMaxSize ?? "10M", "syncScanMaxSize"),
    failClosed: (args.failMode ?? "closed") === "closed",
    airGapped: args.airGapped ?? false,
    checksPerDay: args.signatureChecksPerDay ?? 12,
    clamdReplicas: args.clamdReplicas ?? replicas,
    clamdResources: args.clamdResources ?? antivirusSize(args.sizing, "clamav"),
    signatureMemoryBytes: parseMemory(args.signatureMemory ?? defaultSignatureMemory, "signatureMemory"),
    queuePort,
    queuePeer: args.queue.peer ?? { app: args.queue.host },
    queueStream: args.queueStream ?? "av:scan",
    resultsStream: args.resultsStream ?? "av:results",
    deadLetterStream: args.deadLetterStream ?? "av:dead",
    maxAttempts: args.maxAttempts ?? 5,
    workerAutoscaling: args.workerAutoscaling ?? { minReplicas: replicas, maxReplicas: 3 * replicas },
    workerResources: args.workerResources ?? antivirusSize(args.sizing, "scanWorker"),
    scanClients: args.scanClients ?? [],
  };
}

export type ResolvedAntivirusArgs = ReturnType<typeof resolveAntivirusArgs>;

const Mi = 1024 ** 2;
const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2).replace(/\.?0+$/, "")}Gi`;

/** Pure validation of AntivirusArgs; every problem names its field and what is allowed. */
export function validateAntivirusArgs(args: AntivirusArgs): ValidationError[] {
  const problems = validateAntivirusSettings(args);
  const fail = (field: string, problem: string) => problems.push(new ValidationError(field, problem));
  if (!args.queue?.passwordRef?.key)
    fail("queue.passwordRef", "is required (the Redis password's Secret and key)");
  if (
    !args.adminTokenRef?.key &&
    !(args.adminLogin?.passwordRef?.key && args.adminLogin.registrationSecretRef?.key)
  )
    fail(
      "adminTokenRef",
      "or adminLogin is required (a Synapse admin token, or a password and the registration secret)",
    );
  return problems;
}

/** Pure validation of everything but the Secret references; every problem names its field. */
export function validateAntivirusSettings(args: AntivirusSettings): ValidationError[] {
  const problems: ValidationError[] = [];
  const fail = (field: string, problem: string) => problems.push(new ValidationError(field, problem));
  const size = (field: string, v: string | number | undefined, dflt: string) => {
    try {
      return parseSynapseSize(v ?? dflt, field);
    } catch (e) {
      problems.push(e as ValidationError);
      return undefined;
    }
  };

  if (typeof args.namespace === "string" && !dnsLabel.test(args.namespace)) {
    fail("namespace", `"${args.namespace}" is not a DNS-1123 label`);
  }
  if (!serverNameRe.test(args.serverName ?? "")) {
    fail("serverName", `"${args.serverName}" is not a Matrix server name (host[:port])`);
  }

  const upload = size("maxUploadSize", args.maxUploadSize, "50M");
  if (upload !== undefined && upload > 1024 * Mi) {
    fail("maxUploadSize", "must be at most 1024M: clamd scans at most 4× the upload and caps sizes at 4G");
  }
  const sync = size("syncScanMaxSize", args.syncScanMaxSize, "10M");
  if (upload !== undefined && sync !== undefined && sync > upload) {
    fail("syncScanMaxSize", `must not exceed maxUploadSize (${upload} bytes), got ${sync} bytes`);
  }
  if (args.failMode !== undefined && !["closed", "open"].includes(args.failMode)) {
    fail("failMode", `must be "closed" or "open", got ${JSON.stringify(args.failMode)}`);
  }

  const source = args.signatureSource as SignatureSource | undefined;
  if (!source || !["internet", "mirror"].includes(source.mode)) {
    fail("signatureSource.mode", `must be "internet" or "mirror", got ${JSON.stringify(source?.mode)}`);
  } else if (source.mode === "internet" && (args.airGapped ?? false)) {
    fail(
      "signatureSource.mode",
      'is "internet" but the site is air-gapped: freshclam cannot reach database.clamav.net; use { mode: "mirror", url: "http://<site mirror>", peer } (a cvdupdate mirror inside the site)',
    );
  } else if (source.mode === "mirror") {
    if (!urlHostPort(source.url ?? "")) {
      fail(
        "signatureSource.url",
        `"${source.url}" must be an http(s) URL such as http://clamav-mirror.site.internal`,
      );
    }
    if (!source.peer) {
      fail("signatureSource.peer", "is required: the mirror's network location (cidr, or namespace and app)");
    }
  }
  const checks = args.signatureChecksPerDay ?? 12;
  if (!Number.isInteger(checks) || checks < 1 || checks > 50) {
    fail("signatureChecksPerDay", `must be an integer from 1 to 50 (freshclam's limit), got ${checks}`);
  }

  const clamdReplicas = args.clamdReplicas ?? args.sizing.replicas;
  if (!Number.isInteger(clamdReplicas) || clamdReplicas < 1) {
    fail("clamdReplicas", `must be a positive integer, got ${clamdReplicas}`);
  }
  const clamd = args.clamdResources;
  if (clamd) problems.push(...validateResources("clamdResources", clamd));
  let limit: number | undefined;
  let footprint: number | undefined;
  try {
    limit = parseMemory(
      (clamd ?? antivirusSize(args.sizing, "clamav")).limits.memory,
      "clamdResources.limits.memory",
    );
    footprint = parseMemory(args.signatureMemory ?? defaultSignatureMemory, "signatureMemory");
  } catch (e) {
    if (e instanceof ValidationError) problems.push(e);
    else throw e;
  }
  if (limit !== undefined && limit < clamdMinMemoryBytes) {
    fail(
      "clamdResources.limits.memory",
      `must be at least 3Gi, got ${gib(limit)}: clamd holds the whole signature database in memory (~1.2Gi) and a signature reload loads a second copy beside it, so a smaller limit gets clamd OOM-killed on the first update`,
    );
  }
  if (limit !== undefined && footprint !== undefined && limit < footprint + scanHeadroomBytes) {
    fail(
      "signatureMemory",
      `${gib(footprint)} of signatures plus 0.5Gi for scans does not fit the ${gib(limit)} clamd limit`,
    );
  }

  const q = args.queue;
  if (!q || !dnsName.test(q.host ?? "")) {
    fail("queue.host", `"${q?.host}" must be a Service DNS name such as "redis"`);
  } else if (!q.peer && !dnsLabel.test(q.host)) {
    fail(
      "queue.peer",
      `is required when queue.host ("${q.host}") is not a bare Service name in this namespace`,
    );
  }
  const qp = q?.port ?? 6379;
  if (!Number.isInteger(qp) || qp < 1 || qp > 65535) fail("queue.port", `must be a TCP port, got ${qp}`);

  const streams = {
    queueStream: args.queueStream ?? "av:scan",
    resultsStream: args.resultsStream ?? "av:results",
    deadLetterStream: args.deadLetterStream ?? "av:dead",
  };
  for (const [field, v] of Object.entries(streams)) {
    if (!streamRe.test(v)) fail(field, `"${v}" must be 1–64 of A-Z a-z 0-9 : . _ -`);
  }
  if (new Set(Object.values(streams)).size !== 3) {
    fail("resultsStream", "the queue, results and dead-letter streams must be three different keys");
  }
  const attempts = args.maxAttempts ?? 5;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) {
    fail("maxAttempts", `must be an integer from 1 to 100, got ${attempts}`);
  }

  const hpa = args.workerAutoscaling;
  if (
    hpa &&
    !(Number.isInteger(hpa.minReplicas) && hpa.minReplicas >= 1 && hpa.maxReplicas >= hpa.minReplicas)
  ) {
    fail(
      "workerAutoscaling",
      `need integers 1 ≤ minReplicas ≤ maxReplicas, got ${hpa.minReplicas}–${hpa.maxReplicas}`,
    );
  }
  if (args.workerResources) problems.push(...validateResources("workerResources", args.workerResources));

  for (const field of ["synapseMediaUrl", "synapseAdminUrl"] as const) {
    if (!urlHostPort(args[field] ?? "")) {
      fail(field, `"${args[field]}" must be an http(s) base URL such as http://synapse-main:8008`);
    }
  }
  if (!args.synapsePeers?.length) {
    fail(
      "synapsePeers",
      "name the Synapse pods (and ports) the workers download media from and quarantine through",
    );
  }
  return problems;
}

import { SizingProfileName, ValidationError } from "@keel/core";
import { MatrixWorkerCounts, StreamWriterCounts, WorkerMaxReplicas, defaultWorkerCounts } from "./config";

/** Settings of the Matrix platform (`keel:matrix`). */
export interface MatrixAppSettings {
  /**
   * Worker pods per type; unset types take the sizing profile's defaults (small: one of each, medium: two,
   * large: three to four). Only stateless readers autoscale (see `workerMaxReplicas`).
   * @default defaultWorkerCounts(sizing)
   */
  workers?: Partial<Omit<MatrixWorkerCounts, "streamWriters">> & {
    streamWriters?: Partial<StreamWriterCounts>;
  };
  /** HPA upper bounds of the stateless readers (synchrotron, clientReader, …). @default {} (no HPA) */
  workerMaxReplicas?: WorkerMaxReplicas;
  /** PostgreSQL max_connections; Σ cp_max of every process at its largest scale must fit. @default 300 */
  maxConnections?: number;
  /** Connections kept for superuser, backups and maintenance. @default 20 */
  reservedConnections?: number;
  /** Largest upload, Synapse size syntax. @default "100M" */
  maxUploadSize?: string;
  /** Deploy the lawful-intercept replica in its own namespace. @default true */
  lawfulIntercept?: boolean;
  /** Deploy ClamAV, the scan workers and Synapse's antivirus module. @default true */
  antivirus?: boolean;
  /** ClamAV signature mirror (required when air-gapped). @default "" (the public mirror) */
  signatureMirror?: string;
  /** How often the LI replica copies media and sequences. @default "*\/15 * * * *" */
  liSyncSchedule?: string;
  /** How often media is mirrored into the object store. @default "7 * * * *" */
  mediaMirrorSchedule?: string;
  /** Federate only with these server names; [] federates with nobody else. @default undefined (any) */
  federationDomainWhitelist?: string[];
}

/** The keys `keel:matrix` accepts. */
export const matrixSettingKeys: (keyof MatrixAppSettings)[] = [
  "workers",
  "workerMaxReplicas",
  "maxConnections",
  "reservedConnections",
  "maxUploadSize",
  "lawfulIntercept",
  "antivirus",
  "signatureMirror",
  "liSyncSchedule",
  "mediaMirrorSchedule",
  "federationDomainWhitelist",
];

export interface ResolvedMatrixSettings extends Required<
  Omit<MatrixAppSettings, "workers" | "federationDomainWhitelist">
> {
  workers: MatrixWorkerCounts;
  federationDomainWhitelist?: string[];
}

const cron = /^(\S+\s+){4}\S+$/;
const size = /^[0-9]+[KMG]?$/;
const url = /^https?:\/\/[a-z0-9.-]+(:\d+)?(\/\S*)?$/;

/** Fills defaults (worker counts from the sizing profile) and validates; errors name `<field>.<key>`. */
export function resolveMatrixSettings(
  s: MatrixAppSettings | undefined,
  profile: SizingProfileName,
  field = "app",
): ResolvedMatrixSettings {
  const base = defaultWorkerCounts(profile);
  const workers: MatrixWorkerCounts = {
    ...base,
    ...s?.workers,
    streamWriters: { ...base.streamWriters, ...s?.workers?.streamWriters },
  };
  const m: ResolvedMatrixSettings = {
    workerMaxReplicas: {},
    maxConnections: 300,
    reservedConnections: 20,
    maxUploadSize: "100M",
    lawfulIntercept: true,
    antivirus: true,
    signatureMirror: "",
    liSyncSchedule: "*/15 * * * *",
    mediaMirrorSchedule: "7 * * * *",
    ...s,
    workers,
  };
  const fail = (key: string, problem: string) => new ValidationError(`${field}.${key}`, problem);
  const int = (key: "maxConnections" | "reservedConnections", min: number, max: number) => {
    if (!Number.isInteger(m[key]) || m[key] < min || m[key] > max) {
      throw fail(key, `must be an integer from ${min} to ${max}, got ${JSON.stringify(m[key])}`);
    }
  };
  int("maxConnections", 50, 5000);
  int("reservedConnections", 3, m.maxConnections - 1);
  if (!size.test(m.maxUploadSize)) throw fail("maxUploadSize", `must be like 100M, got "${m.maxUploadSize}"`);
  for (const key of ["lawfulIntercept", "antivirus"] as const) {
    if (typeof m[key] !== "boolean") throw fail(key, `must be true or false, got ${JSON.stringify(m[key])}`);
  }
  if (m.signatureMirror !== "" && !url.test(m.signatureMirror)) {
    throw fail("signatureMirror", `must be an http(s) URL, got "${m.signatureMirror}"`);
  }
  for (const key of ["liSyncSchedule", "mediaMirrorSchedule"] as const) {
    if (!cron.test(m[key])) throw fail(key, `must be a five-field cron schedule, got "${m[key]}"`);
  }
  if (
    m.federationDomainWhitelist !== undefined &&
    (!Array.isArray(m.federationDomainWhitelist) ||
      m.federationDomainWhitelist.some((d) => typeof d !== "string" || !/^[a-z0-9.-]+$/.test(d)))
  ) {
    throw fail("federationDomainWhitelist", "must be a list of server names");
  }
  return m;
}

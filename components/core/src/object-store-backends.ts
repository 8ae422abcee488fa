import { ImageKey } from "./images";
import { Probes } from "./probes";
import { ScratchVolume } from "./volumes";
import { SecretKeyRef } from "./volumes";

/** S3-compatible servers the object store can run (MinIO no longer ships community images). */
export const objectStoreBackends = ["rustfs", "versitygw"] as const;
export type ObjectStoreBackend = (typeof objectStoreBackends)[number];

/** The credentials every backend receives, from the object store's generated Secret. */
export interface S3Credentials {
  accessKey: SecretKeyRef;
  secretKey: SecretKeyRef;
}

/** What differs between S3 servers: image, port, user, how credentials and the data path are passed. */
export interface S3BackendAdapter {
  image: ImageKey;
  port: number;
  runAsUser: number;
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  secretEnv(credentials: S3Credentials): Record<string, SecretKeyRef>;
  scratchVolumes: ScratchVolume[];
  probes: Probes;
}

const timing = {
  startup: { periodSeconds: 5, failureThreshold: 24, timeoutSeconds: 3 },
  readiness: { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
  liveness: { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
};

function httpProbes(path: string, port: number): Probes {
  const check = { http: { path, port } };
  return {
    startup: { ...check, ...timing.startup },
    readiness: { ...check, ...timing.readiness },
    liveness: { ...check, ...timing.liveness },
  };
}

/** RustFS (Apache-2.0, the S3 server the OpenCTI community chart moved to): single node, single volume. */
const rustfs: S3BackendAdapter = {
  image: "rustfs",
  port: 9000,
  runAsUser: 10001,
  command: ["/usr/bin/rustfs"],
  env: {
    RUSTFS_VOLUMES: "/data",
    RUSTFS_ADDRESS: ":9000",
    RUSTFS_CONSOLE_ENABLE: "false",
    RUSTFS_OBS_LOG_DIRECTORY: "/logs",
    RUSTFS_REGION: "us-east-1",
  },
  secretEnv: (c) => ({ RUSTFS_ACCESS_KEY: c.accessKey, RUSTFS_SECRET_KEY: c.secretKey }),
  scratchVolumes: [{ name: "logs", mountPath: "/logs", sizeLimit: "256Mi" }],
  probes: httpProbes("/health", 9000),
};

/** Versity S3 Gateway (Apache-2.0): S3 over a POSIX directory, one static root account. */
const versitygw: S3BackendAdapter = {
  image: "versitygw",
  port: 7070,
  runAsUser: 65532,
  env: {
    VGW_BACKEND: "posix",
    VGW_BACKEND_ARGS: "/data",
    VGW_PORT: ":7070",
    VGW_HEALTH: "/health",
    VGW_REGION: "us-east-1",
  },
  secretEnv: (c) => ({ ROOT_ACCESS_KEY: c.accessKey, ROOT_SECRET_KEY: c.secretKey }),
  scratchVolumes: [],
  probes: httpProbes("/health", 7070),
};

export const s3Backends: Record<ObjectStoreBackend, S3BackendAdapter> = { rustfs, versitygw };

import * as pulumi from "@pulumi/pulumi";
import { ValidationError, throwIfInvalid } from "./errors";
import { NetworkPeer } from "./network";
import { parseMemory } from "./quantity";
import { ResourceSpec, validateResources } from "./resources";
import { GeneratedSecret } from "./secrets";
import { SecretKeyRef } from "./volumes";
import { Workload } from "./workload";

export const evictionPolicies = [
  "noeviction",
  "allkeys-lru",
  "allkeys-lfu",
  "volatile-lru",
  "volatile-lfu",
  "allkeys-random",
  "volatile-random",
  "volatile-ttl",
] as const;
export type EvictionPolicy = (typeof evictionPolicies)[number];

export interface RedisArgs {
  namespace: pulumi.Input<string>;
  partOf: string;
  image: string;
  /** @default "redis" */
  appName?: string;
  resources: ResourceSpec;
  /** Share of the memory limit given to `maxmemory`; the rest covers fork, buffers and fragmentation. @default 0.7 */
  maxmemoryRatio?: number;
  /** Explicit eviction policy; queues and streams need `noeviction`. */
  evictionPolicy: EvictionPolicy;
  /** Append-only persistence on a PVC, for data that must survive restarts. @default false */
  persistence?: boolean;
  /** Required when persistence is on. @default undefined */
  storageClass?: string;
  /** @default "5Gi" */
  storageSize?: string;
  /** Who may connect on 6379. @default [] */
  allowFrom?: NetworkPeer[];
  /** @default 0 */
  rotation?: number;
  /** A node maintenance window: the single pod's budget lets drains evict it. @default false */
  maintenance?: boolean;
}

/** maxmemory in bytes: `ratio` of the limit (F18). */
export function redisMaxmemory(memoryLimitBytes: number, ratio = 0.7): number {
  return Math.floor(memoryLimitBytes * ratio);
}

export function validateRedisArgs(args: RedisArgs): ValidationError[] {
  const problems = validateResources("resources", args.resources);
  const ratio = args.maxmemoryRatio ?? 0.7;
  if (!(ratio >= 0.3 && ratio <= 0.8)) {
    problems.push(
      new ValidationError("maxmemoryRatio", `must be between 0.3 and 0.8 of the limit, got ${ratio}`),
    );
  }
  if (!evictionPolicies.includes(args.evictionPolicy)) {
    problems.push(new ValidationError("evictionPolicy", `must be one of ${evictionPolicies.join(", ")}`));
  }
  if (args.persistence && !args.storageClass?.trim()) {
    problems.push(new ValidationError("storageClass", "is required when persistence is on"));
  }
  return problems;
}

/** Redis (official image) with bounded memory, an explicit eviction policy, a password and optional AOF. */
export class Redis extends pulumi.ComponentResource {
  readonly host: pulumi.Output<string>;
  readonly port = 6379;
  readonly credentials: GeneratedSecret;

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keel:core:Redis", name, {}, opts);
    throwIfInvalid(validateRedisArgs(args));
    const app = args.appName ?? "redis";
    const maxmemory = redisMaxmemory(parseMemory(args.resources.limits.memory), args.maxmemoryRatio);

    this.credentials = new GeneratedSecret(
      `${name}-credentials`,
      {
        namespace: args.namespace,
        secretName: `${app}-credentials`,
        generate: { password: { length: 32 } },
        rotation: args.rotation,
      },
      { parent: this },
    );

    const ping = {
      exec: { command: ["sh", "-c", 'redis-cli -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG'] },
    };
    const persistence = args.persistence ?? false;
    const server = new Workload(
      `${name}`,
      {
        namespace: args.namespace,
        appName: app,
        partOf: args.partOf,
        kind: "StatefulSet",
        image: args.image,
        command: ["redis-server"],
        args: [
          "--maxmemory",
          String(maxmemory),
          "--maxmemory-policy",
          args.evictionPolicy,
          "--appendonly",
          persistence ? "yes" : "no",
          "--save",
          "",
          "--dir",
          "/data",
          "--requirepass",
          "$(REDIS_PASSWORD)",
        ],
        resources: args.resources,
        probes: {
          startup: { ...ping, periodSeconds: 5, failureThreshold: 24, timeoutSeconds: 3 },
          readiness: { ...ping, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
          liveness: { ...ping, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
        },
        ports: [{ name: "redis", port: 6379 }],
        secretEnv: { REDIS_PASSWORD: this.credentials.ref("password") },
        runAsUser: 999,
        persistentVolumes: persistence
          ? [
              {
                name: "data",
                mountPath: "/data",
                size: args.storageSize ?? "5Gi",
                storageClass: args.storageClass ?? "",
              },
            ]
          : [],
        scratchVolumes: persistence ? [] : [{ name: "data", mountPath: "/data", sizeLimit: "16Mi" }],
        critical: persistence,
        maintenance: args.maintenance,
        allowFrom: args.allowFrom,
      },
      { parent: this },
    );
    this.host = server.serviceName;
    this.registerOutputs({ host: this.host, credentials: this.credentials.secretName });
  }

  passwordRef(): SecretKeyRef {
    return this.credentials.ref("password");
  }
}

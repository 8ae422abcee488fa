import { NetworkPeer, Redis } from "@keel/core";
import { exporterAppName } from "@keel/monitoring";
import { MatrixContext } from "./context";

/** A Redis of the Matrix namespace and its app (Service name). */
export interface MatrixRedis {
  server: Redis;
  app: string;
  /** Egress to it. */
  peer: NetworkPeer;
}

/**
 * A Redis with its data on a small volume: `synapse-redis` (replication pub/sub and caches, nothing Synapse
 * cannot rebuild, but a restart should not empty it) or the antivirus's queue (`noeviction`: a queue must
 * not lose entries).
 */
export function matrixRedis(
  c: MatrixContext,
  id: string,
  args: { appName: string; evictionPolicy: "allkeys-lru" | "noeviction"; allowFrom: NetworkPeer[] },
): MatrixRedis {
  const server = new Redis(
    `${c.name}-${id}`,
    {
      namespace: c.namespace,
      partOf: c.partOf,
      image: c.site.images.image("redis"),
      appName: args.appName,
      resources: c.resources.redis,
      evictionPolicy: args.evictionPolicy,
      persistence: true,
      storageClass: c.site.storageClasses.fast,
      storageSize: "1Gi",
      allowFrom: args.allowFrom,
      rotation: c.site.secretRotation,
      maintenance: c.site.maintenance,
    },
    { parent: c.parent },
  );
  return { server, app: args.appName, peer: { app: args.appName, ports: [server.port] } };
}

/** `synapse-redis`: replication between Synapse's processes and shared caches. */
export function synapseRedis(c: MatrixContext): MatrixRedis {
  const app = "synapse-redis";
  return matrixRedis(c, "redis", {
    appName: app,
    evictionPolicy: "allkeys-lru",
    allowFrom: [
      ...c.plan.synapseApps.map((a) => ({ app: a })),
      ...(c.plan.monitored ? [{ app: exporterAppName(app) }] : []),
    ],
  });
}

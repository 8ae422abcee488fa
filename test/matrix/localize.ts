import { expect } from "chai";

/*
 * The only changes the Matrix end-to-end test makes to Synapse's rendered YAML: listen addresses and ports
 * (each pod gets ports of its own on 127.0.0.1, where in the cluster every pod has its own address) and peer
 * host names (instance_map, PgBouncer, the two Redis, clamd). Every change is recorded for the output.
 */

/** Where the test runs each peer and each pod's listeners on 127.0.0.1. */
export interface LocalNetwork {
  /** The local port of a pod's rendered container port (`synapse-main-0`, 9093). */
  port(pod: string, rendered: number): number;
  /** Local ports of the services Synapse reaches by name. */
  peers: { pgbouncer: number; redis: number; avRedis: number; clamd: number };
}

/** The rendered peer names, as homeserver.yaml has them. */
export const peerNames = {
  pgbouncer: "pgbouncer",
  redis: "synapse-redis",
  avRedis: "av-redis",
  clamd: "clamav",
};

/** `<pod>.<StatefulSet>` (instance_map's host) → the pod. */
function podOfHost(host: string): string {
  const m = /^([a-z0-9-]+-\d+)\.([a-z0-9-]+)$/.exec(host);
  expect(m, `instance_map host ${host} is <pod>.<headless Service>`).to.not.equal(null);
  expect(m![1].startsWith(`${m![2]}-`), `${host}: the pod belongs to the Service`).to.equal(true);
  return m![1];
}

/** Rewrites one parsed Synapse config file of `pod` in place; returns the rewrites made. */
export function localizeSynapseConfig(doc: any, pod: string, net: LocalNetwork): string[] {
  const done: string[] = [];
  const note = (what: string, from: unknown, to: unknown) =>
    done.push(`${what}: ${JSON.stringify(from)} → ${JSON.stringify(to)}`);
  for (const key of ["listeners", "worker_listeners"]) {
    for (const l of doc[key] ?? []) {
      const port = net.port(pod, l.port);
      note(`${key} ${l.type} ${l.port}`, [l.bind_addresses, l.port], [["127.0.0.1"], port]);
      l.bind_addresses = ["127.0.0.1"];
      l.port = port;
    }
  }
  for (const [name, loc] of Object.entries<any>(doc.instance_map ?? {})) {
    const to = { host: "127.0.0.1", port: net.port(podOfHost(loc.host), loc.port) };
    note(`instance_map.${name}`, loc, to);
    doc.instance_map[name] = to;
  }
  const args = doc.database?.args;
  if (args) {
    expect(args.host, "database.args.host").to.equal(peerNames.pgbouncer);
    note("database.args host:port", `${args.host}:${args.port}`, `127.0.0.1:${net.peers.pgbouncer}`);
    Object.assign(args, { host: "127.0.0.1", port: net.peers.pgbouncer });
  }
  if (doc.redis) {
    expect(doc.redis.host, "redis.host").to.equal(peerNames.redis);
    note("redis host:port", `${doc.redis.host}:${doc.redis.port}`, `127.0.0.1:${net.peers.redis}`);
    Object.assign(doc.redis, { host: "127.0.0.1", port: net.peers.redis });
  }
  for (const m of doc.modules ?? []) {
    const c = m.config ?? {};
    if (c.clamd_host !== undefined) {
      expect(c.clamd_host, `${m.module} clamd_host`).to.equal(peerNames.clamd);
      note(`${m.module} clamd`, `${c.clamd_host}:${c.clamd_port}`, `127.0.0.1:${net.peers.clamd}`);
      Object.assign(c, { clamd_host: "127.0.0.1", clamd_port: net.peers.clamd });
    }
    if (c.redis_host !== undefined) {
      expect(c.redis_host, `${m.module} redis_host`).to.equal(peerNames.avRedis);
      note(`${m.module} queue`, `${c.redis_host}:${c.redis_port}`, `127.0.0.1:${net.peers.avRedis}`);
      Object.assign(c, { redis_host: "127.0.0.1", redis_port: net.peers.avRedis });
    }
  }
  return done;
}

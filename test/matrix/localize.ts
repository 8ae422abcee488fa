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
  /** Local ports of the services Synapse reaches by name, by their rendered host name (`pgbouncer`, …). */
  peers: Record<string, number>;
}

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
  const peer = (what: string, host: string, port: number) => {
    const local = net.peers[host];
    expect(local, `${what}: ${host} is a peer the test runs`).to.be.a("number");
    note(`${what} host:port`, `${host}:${port}`, `127.0.0.1:${local}`);
    return { host: "127.0.0.1", port: local };
  };
  const args = doc.database?.args;
  if (args) Object.assign(args, peer("database.args", args.host, args.port));
  if (doc.redis) Object.assign(doc.redis, peer("redis", doc.redis.host, doc.redis.port));
  for (const m of doc.modules ?? []) {
    const c = m.config ?? {};
    if (c.clamd_host !== undefined) {
      const to = peer(`${m.module} clamd`, c.clamd_host, c.clamd_port);
      Object.assign(c, { clamd_host: to.host, clamd_port: to.port });
    }
    if (c.redis_host !== undefined) {
      const to = peer(`${m.module} queue`, c.redis_host, c.redis_port);
      Object.assign(c, { redis_host: to.host, redis_port: to.port });
    }
  }
  return done;
}

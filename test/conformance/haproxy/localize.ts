import { HAPROXY_PORTS } from "@keel/matrix";

/** The backends of a haproxy.cfg, in order. */
export const backendsOf = (cfg: string) => [...cfg.matchAll(/^backend (\S+)$/gm)].map((m) => m[1]);

/** Where a backend's servers are reached on 127.0.0.1: its traffic port and its health-check port. */
export interface LocalServer {
  port: number;
  check: number;
}

/**
 * The rendered haproxy.cfg with only peer addresses rewritten: the two binds to 127.0.0.1, each
 * server-template's SRV name to its local server's address and its health-check port to the local one.
 * Returns the text and the rewrites made (each as `before  →  after`).
 */
export function localize(
  cfg: string,
  ports: { http: number; stats: number },
  servers: Map<string, LocalServer>,
): { text: string; rewrites: string[] } {
  const rewrites: string[] = [];
  let backend = "";
  const lines = cfg.split("\n").map((line) => {
    backend = /^backend (\S+)$/.exec(line)?.[1] ?? backend;
    let out = line
      .replace(`bind :${HAPROXY_PORTS.http}`, `bind 127.0.0.1:${ports.http}`)
      .replace(`bind :${HAPROXY_PORTS.stats}`, `bind 127.0.0.1:${ports.stats}`);
    const tpl = /^(\s*server-template \S+ \d+ )(\S+)( .* check port )(\d+)( .*)$/.exec(out);
    if (tpl) {
      const server = servers.get(backend);
      if (server === undefined) throw new Error(`no local server for backend ${backend}`);
      out = `${tpl[1]}127.0.0.1:${server.port}${tpl[3]}${server.check}${tpl[5]}`;
    }
    if (out !== line) rewrites.push(`${line.trim()}  →  ${out.trim()}`);
    return out;
  });
  return { text: lines.join("\n"), rewrites };
}

import { ValidationError, throwIfInvalid } from "@keel/core";
import { resolveRoutes } from "./routes";
import {
  MatrixWorkerCounts,
  SYNAPSE_MAIN,
  SYNAPSE_PORTS,
  WorkerGroup,
  WorkerMaxReplicas,
  validateWorkerCounts,
  workerGroups,
} from "./workers";

/*
 * haproxy.cfg for the Synapse router (design of Element's ESS chart: access-token hashing for sync, room
 * hashing for event creation, source hashing for inbound federation, SRV discovery of pods over headless
 * Services, fallback to main when a worker backend is empty). Routing uses the ordered rules of routes.ts:
 * each rule sets `txn.backend` unless an earlier rule already did, then one `use_backend` per backend.
 */

/** Ports of the HAProxy pods. */
export const HAPROXY_PORTS = {
  /** Client and federation traffic from the ingress controller. */
  http: 8008,
  /** `/metrics` (Prometheus exporter) and `/stats`; never exposed outside the namespace. */
  stats: 8405,
} as const;

/** The URI HAProxy answers itself (200) for liveness and readiness probes, on `HAPROXY_PORTS.http`. */
export const HAPROXY_MONITOR_URI = "/haproxy-health";

/** Inputs of `renderHaproxyConfig`. Every value is validated; nothing user-supplied reaches the file raw. */
export interface HaproxyConfigInput {
  /** The worker topology (same counts as homeserver.yaml). */
  counts: MatrixWorkerCounts;
  /** HPA upper bounds: each backend gets that many server slots. @default {} */
  maxReplicas?: WorkerMaxReplicas;
  /** Namespace of the Synapse Services (SRV names are fully qualified). */
  namespace: string;
  /** Cluster DNS domain. @default "cluster.local" */
  clusterDomain?: string;
  /** `maxconn` of the process. @default 4000 */
  maxConnections?: number;
  /** Media store is shared (only then may several media repositories exist). @default false */
  sharedMediaStore?: boolean;
}

const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const domain = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Checks the HAProxy inputs; errors name the field. */
export function validateHaproxyInput(input: HaproxyConfigInput): ValidationError[] {
  const problems = validateWorkerCounts(input.counts, {
    field: "counts",
    maxReplicas: input.maxReplicas,
    sharedMediaStore: input.sharedMediaStore,
  });
  if (typeof input.namespace !== "string" || !label.test(input.namespace)) {
    problems.push(
      new ValidationError(
        "namespace",
        `must be a DNS label (a-z, 0-9, -), got ${JSON.stringify(input.namespace)}`,
      ),
    );
  }
  if (input.clusterDomain !== undefined && !domain.test(input.clusterDomain)) {
    problems.push(
      new ValidationError("clusterDomain", `must be a DNS name, got ${JSON.stringify(input.clusterDomain)}`),
    );
  }
  const maxconn = input.maxConnections ?? 4000;
  if (!Number.isInteger(maxconn) || maxconn < 100 || maxconn > 100000) {
    problems.push(
      new ValidationError("maxConnections", `must be an integer from 100 to 100000, got ${maxconn}`),
    );
  }
  return problems;
}

/** The HAProxy backend name of a group (or `main`): the StatefulSet name. */
export function haproxyBackendName(group: string): string {
  return group === SYNAPSE_MAIN.group ? SYNAPSE_MAIN.statefulSet : `synapse-${group}`;
}

function srv(statefulSet: string, input: HaproxyConfigInput): string {
  return `_http._tcp.${statefulSet}.${input.namespace}.svc.${input.clusterDomain ?? "cluster.local"}`;
}

const healthCheck = [
  "  option httpchk",
  "  http-check send meth GET uri /health",
  "  http-check expect status 200",
];

function serverTemplate(
  prefix: string,
  slots: number,
  statefulSet: string,
  input: HaproxyConfigInput,
): string {
  return `  server-template ${prefix} ${slots} ${srv(statefulSet, input)} resolvers kubedns init-addr none check port ${SYNAPSE_PORTS.health} inter 5s fall 3 rise 2`;
}

// Room-ID hashing: pagination must stay on one client reader per room, event creation is cheaper that way.
const roomHash = [
  "  http-request set-header X-Matrix-Room %[path] if { path_reg /(rooms|join|knock)/[^/]+ }",
  "  http-request replace-header X-Matrix-Room ^.*/rooms/([^/]+).*$ \\1",
  "  http-request replace-header X-Matrix-Room ^.*/(join|knock)/([^/]+).*$ \\2",
  "  balance hdr(X-Matrix-Room)",
];

function balanceLines(group: WorkerGroup): string[] {
  switch (group.type) {
    case "synchrotron":
      return [
        "  # docs/workers.md Load balancing: all syncs of one user (token) to one synchrotron",
        "  http-request set-header X-Access-Token %[var(txn.access_token)] if { var(txn.access_token) -m found }",
        "  balance hdr(X-Access-Token)",
        "  default-server maxconn 1000",
        "  timeout queue 5s",
      ];
    case "event-creator":
    case "client-reader":
      return roomHash;
    case "federation-inbound":
      return ["  # transactions from one remote server to one worker", "  balance source"];
    case "federation-reader":
      return ["  # identical (expensive) state requests to the same worker", "  balance uri whole"];
    default:
      return ["  balance roundrobin"];
  }
}

/**
 * haproxy.cfg: frontend on 8008 (monitor URI for probes), ordered path rules from the shared rule table,
 * one backend per worker group that serves routes plus `synapse-main`, each discovering its pods with
 * `server-template` over the headless Service's SRV records (named port `http`) through the pod's resolvers,
 * falling back to main when empty. Stats and Prometheus metrics on 8405. Deterministic for equal input.
 */
export function renderHaproxyConfig(input: HaproxyConfigInput): string {
  throwIfInvalid(validateHaproxyInput(input));
  const groups = workerGroups(input.counts, input.maxReplicas).filter((g) => g.http);
  const routes = resolveRoutes(input.counts);
  const lines: string[] = [
    "# Generated by @keel/matrix renderHaproxyConfig; do not edit.",
    "global",
    "  log stdout format raw local0 info",
    `  maxconn ${input.maxConnections ?? 4000}`,
    "",
    "defaults",
    "  mode http",
    "  log global",
    "  option httplog",
    "  option forwardfor if-none",
    "  option redispatch",
    "  retries 2",
    "  hash-type consistent",
    "  timeout connect 5s",
    "  timeout queue 60s",
    "  timeout http-request 10s",
    "  timeout http-keep-alive 60s",
    "  # /sync long-polls (clients ask for up to 30 s, initial syncs take minutes)",
    "  timeout client 180s",
    "  timeout server 180s",
    "  default-server maxconn 500",
    "",
    "resolvers kubedns",
    "  parse-resolv-conf",
    "  accepted_payload_size 8192",
    "  resolve_retries 3",
    "  timeout resolve 1s",
    "  timeout retry 1s",
    "  hold valid 10s",
    "  hold obsolete 30s",
    "",
    "frontend stats",
    `  bind :${HAPROXY_PORTS.stats}`,
    "  # before use-service: it is final, nothing after it runs for /metrics",
    "  http-request set-log-level silent",
    "  http-request use-service prometheus-exporter if { path /metrics }",
    "  stats enable",
    "  stats uri /stats",
    "  stats refresh 10s",
    "",
    "frontend synapse",
    `  bind :${HAPROXY_PORTS.http}`,
    `  monitor-uri ${HAPROXY_MONITOR_URI}`,
    "  # balancing headers are ours only",
    "  http-request del-header X-Access-Token",
    "  http-request del-header X-Matrix-Room",
    "  # the client address as the ingress controller saw it, for logs and source balancing",
    "  http-request set-src hdr(X-Forwarded-For) if { req.hdr(X-Forwarded-For) -m found }",
    "  http-request set-header X-Forwarded-Proto https if !{ req.hdr(X-Forwarded-Proto) -m found }",
    "  http-request set-var(txn.access_token) url_param(access_token) if { url_param(access_token) -m found }",
    '  http-request set-var(txn.access_token) req.fhdr(Authorization),word(2," ") if { req.fhdr(Authorization) -m beg "Bearer " }',
    "",
  ];
  for (const { rule, backend } of routes) {
    const quoted = rule.patterns.map((p) => `'${p}'`).join(" ");
    const method = rule.methods ? " METH_GET" : "";
    lines.push(`  # ${rule.id}: docs/workers.md ${rule.source}`);
    lines.push(
      `  http-request set-var(txn.backend) str(${backend}) if !{ var(txn.backend) -m found }${method} { path_reg ${quoted} }`,
    );
  }
  lines.push("");
  for (const g of groups) {
    lines.push(
      `  use_backend ${SYNAPSE_MAIN.statefulSet} if { var(txn.backend) -m str ${g.name} } { nbsrv(${g.statefulSet}) eq 0 }`,
    );
  }
  for (const g of groups) {
    lines.push(`  use_backend ${g.statefulSet} if { var(txn.backend) -m str ${g.name} }`);
  }
  lines.push(`  default_backend ${SYNAPSE_MAIN.statefulSet}`, "");
  lines.push(
    `backend ${SYNAPSE_MAIN.statefulSet}`,
    ...healthCheck,
    serverTemplate("main", 1, SYNAPSE_MAIN.statefulSet, input),
    "",
  );
  for (const g of groups) {
    lines.push(
      `backend ${g.statefulSet}`,
      ...healthCheck,
      ...balanceLines(g),
      serverTemplate(g.name, g.maxReplicas, g.statefulSet, input),
      "",
    );
  }
  return lines.join("\n");
}

import { K8sObject, annotationsOf, asString, mainContainers, podSpecOf } from "../core/k8s";
import { postgresArgSettings } from "../core/app-settings";
import { DATABASE_ANNOTATION } from "../core/databases";
import { checkEach } from "../core/unknown";
import { Violation, stackRule } from "../core/rule";
import type { StackIndex } from "../core/stack-index";
import { annotations } from "../contract/conventions";

interface Settings {
  defaultReservedConnections: number;
  daemonSetNodes: number;
}

export const MAX_CONNECTIONS_ANNOTATION = annotations.dbMaxConnections;
export const RESERVED_ANNOTATION = annotations.dbReservedConnections;
export const POOLS_ANNOTATION = annotations.dbPools;

interface Consumer {
  workload: K8sObject;
  pool: number;
  replicas: number;
}

/**
 * F16: the connection pools of all consumers fit the database. Σ(pool × max replicas) ≤ max − reserve, where
 * max replicas is the HPA's maxReplicas if one targets the consumer, else spec.replicas.
 */
export const dbConnectionBudget = stackRule<Settings>({
  id: "db-connection-budget",
  findings: ["F16"],
  description:
    "For every database (keel.dev/database), Σ(pool × max replicas) of its consumers (keel.dev/db-pools) ≤ keel.dev/db-max-connections − keel.dev/db-reserved-connections.",
  fix: "lower pools or max replicas, raise max_connections, or add PgBouncer",
  defaultLevel: "mandatory",
  config: {
    schema: {
      defaultReservedConnections: {
        type: "integer",
        minimum: 0,
        description:
          "Reserve when a database has no keel.dev/db-reserved-connections (default 3, PostgreSQL's superuser_reserved_connections).",
      },
      daemonSetNodes: {
        type: "integer",
        minimum: 1,
        description: "Nodes a DaemonSet consumer runs on (default 1).",
      },
    },
    defaults: { defaultReservedConnections: 3, daemonSetNodes: 1 },
  },
  check(stack, settings) {
    const violations: Violation[] = [];
    const databases = new Map<string, K8sObject>();
    checkEach(stack.workloads(), violations, (workload) => {
      const id = asString(annotationsOf(workload)[DATABASE_ANNOTATION])?.trim();
      if (id) {
        databases.set(id, workload);
      }
    });
    const consumers = new Map<string, Consumer[]>();
    checkEach(stack.workloads(), violations, (workload) => {
      const raw = annotationsOf(workload)[POOLS_ANNOTATION];
      if (raw === undefined) {
        return;
      }
      const parsed = parsePools(String(raw));
      if (!parsed) {
        violations.push({
          subject: workload,
          message: `write annotation ${POOLS_ANNOTATION} as "<db-id>=<per-pod pool>[,<db-id>=<n>]" (it is '${String(raw)}')`,
        });
        return;
      }
      const replicas =
        stack.kindOf(workload) === "DaemonSet" ? settings.daemonSetNodes : (stack.maxReplicas(workload) ?? 1);
      for (const [id, pool] of parsed) {
        if (!databases.has(id)) {
          violations.push({
            subject: workload,
            advisoryOnly: true,
            message: `${POOLS_ANNOTATION} names database '${id}' but no workload is annotated ${DATABASE_ANNOTATION}: ${id}`,
          });
          continue;
        }
        consumers.set(id, [...(consumers.get(id) ?? []), { workload, pool, replicas }]);
      }
    });
    for (const [id, users] of consumers) {
      const database = databases.get(id)!;
      checkEach([database], violations, (db) => checkBudget(stack, id, db, users, settings, violations));
    }
    return violations;
  },
});

function checkBudget(
  stack: StackIndex,
  id: string,
  database: K8sObject,
  users: Consumer[],
  settings: Settings,
  violations: Violation[],
): void {
  const annotations = annotationsOf(database);
  const max = integer(annotations[MAX_CONNECTIONS_ANNOTATION]) ?? maxConnectionsFromArgs(database);
  if (max === undefined) {
    violations.push({
      subject: database,
      message: `set annotation ${MAX_CONNECTIONS_ANNOTATION} on database '${id}' so its consumers' pools can be checked`,
    });
    return;
  }
  const reserved = integer(annotations[RESERVED_ANNOTATION]) ?? settings.defaultReservedConnections;
  const needed = users.reduce((sum, u) => sum + u.pool * u.replicas, 0);
  const budget = max - reserved;
  if (needed > budget) {
    const detail = users
      .map((u) => `${stack.kindOf(u.workload)} ${stack.nameOf(u.workload)} ${u.pool} × ${u.replicas}`)
      .join(", ");
    violations.push({
      subject: database,
      message: `connection pools need ${needed} connections at max replicas (${detail}) but database '${id}' allows ${max} − ${reserved} reserved = ${budget}: lower pool sizes or max replicas, raise max_connections, or put a pooler (PgBouncer) in front`,
    });
  }
}

function parsePools(raw: string): Array<[string, number]> | undefined {
  const entries = raw
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  const parsed: Array<[string, number]> = [];
  for (const entry of entries) {
    const match = /^(.+?)\s*=\s*(\d+)$/.exec(entry);
    if (!match) {
      return undefined;
    }
    parsed.push([match[1]!.trim(), Number(match[2])]);
  }
  return parsed.length > 0 ? parsed : undefined;
}

function integer(value: unknown): number | undefined {
  return typeof value === "string" && /^\s*\d+\s*$/.test(value)
    ? Number(value)
    : typeof value === "number"
      ? value
      : undefined;
}

function maxConnectionsFromArgs(database: K8sObject): number | undefined {
  for (const container of mainContainers(podSpecOf(database))) {
    const value = postgresArgSettings(container).get("max_connections");
    if (value !== undefined && /^\d+$/.test(value)) {
      return Number(value);
    }
  }
  return undefined;
}

import { expect } from "chai";
import { Run, kubectlJson, must, run, runAsync } from "./harness";

// Day-2 operations on a deployed stack (docs/operations.md): node drains and version upgrades (scaling is in
// day2-scaling.ts, rotation in day2-rotation.ts). Each function is one runbook section, run against the real
// API server by test/e2e/stack.spec.ts.

export type Pulumi = (...args: string[]) => Run;

const MANAGED = "app.kubernetes.io/managed-by=keel";

/** What every keel Deployment and StatefulSet runs: name, kind, declared and ready replicas, uid. */
export function workloads(env: NodeJS.ProcessEnv): any[] {
  return kubectlJson(env, ["get", "deployments,statefulsets", "-A", "-l", MANAGED]).items;
}

export function expectAllReady(env: NodeJS.ProcessEnv): void {
  for (const w of workloads(env)) {
    const id = `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`;
    expect(w.status.readyReplicas ?? 0, id).to.equal(w.spec.replicas);
    expect(w.status.updatedReplicas ?? 0, `${id} updated`).to.equal(w.spec.replicas);
  }
}

/** Waits until every keel workload has all its replicas updated and ready. */
export async function waitAllReady(env: NodeJS.ProcessEnv, seconds = 180): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      expectAllReady(env);
      return;
    } catch (e) {
      if (i >= seconds / 2) throw e;
      await sleep(2000);
    }
  }
}

/** Uids of every StatefulSet, PVC and Secret in keel namespaces (what no day-2 change may replace). */
export function stateUids(env: NodeJS.ProcessEnv): Record<string, string> {
  const namespaces = new Set(
    kubectlJson(env, ["get", "namespaces", "-l", MANAGED]).items.map((n: any) => n.metadata.name),
  );
  const items = kubectlJson(env, ["get", "statefulsets,persistentvolumeclaims,secrets", "-A"]).items;
  return Object.fromEntries(
    items
      .filter((o: any) => namespaces.has(o.metadata.namespace))
      .map((o: any) => [`${o.kind} ${o.metadata.namespace}/${o.metadata.name}`, o.metadata.uid]),
  );
}

/** A resource's kind from its URN: `urn:pulumi:<stack>::<project>::<parent types>$<pkg>:<module>:<Kind>::<name>`. */
export function kindOf(urn: string): string {
  return urn.split("::")[2].split("$").pop()!.split(":").pop()!;
}

/** The preview's steps other than `same`, as "op type name". */
export function previewChanges(pulumi: Pulumi): string[] {
  const preview = JSON.parse(pulumi("preview", "--json").stdout);
  return (preview.steps ?? [])
    .filter((s: any) => s.op !== "same")
    .map((s: any) => {
      const kind = kindOf(s.urn);
      const why = s.replaceReasons?.length ? ` (${s.replaceReasons.join(", ")})` : "";
      return `${s.op} ${kind} ${s.urn.split("::")[3]}${why}`;
    });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function nodes(env: NodeJS.ProcessEnv): string[] {
  return kubectlJson(env, ["get", "nodes"]).items.map((n: any) => n.metadata.name);
}

/** Keel pods bound to a node, as namespace/name. */
function podsOn(env: NodeJS.ProcessEnv, node: string): string[] {
  return kubectlJson(env, ["get", "pods", "-A", "-l", MANAGED, "--field-selector", `spec.nodeName=${node}`])
    .items.filter((p: any) => !["Succeeded", "Failed"].includes(p.status.phase))
    .map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`)
    .sort();
}

/** Pods of the budgets that keep their single pod (minAvailable equal to the replicas), as namespace/name. */
function keptPods(env: NodeJS.ProcessEnv): Set<string> {
  const kept = new Set<string>();
  for (const pdb of kubectlJson(env, ["get", "pdb", "-A", "-l", MANAGED]).items) {
    if (pdb.status.disruptionsAllowed !== 0 || pdb.spec.minAvailable === undefined) continue;
    const selector = Object.entries(pdb.spec.selector.matchLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    for (const p of kubectlJson(env, ["get", "pods", "-n", pdb.metadata.namespace, "-l", selector]).items)
      kept.add(`${p.metadata.namespace}/${p.metadata.name}`);
  }
  return kept;
}

const drainArgs = (node: string, timeout: string) => [
  "drain",
  node,
  "--ignore-daemonsets",
  "--delete-emptydir-data",
  `--timeout=${timeout}`,
];

/**
 * Outside a maintenance window a drain evicts everything but the single pod of each critical workload, and
 * stops there: returns the node it tried.
 */
export function drainStopsAtCriticalPods(env: NodeJS.ProcessEnv): string {
  const kept = keptPods(env);
  expect(kept.size, "single-replica critical pods").to.be.greaterThan(5);
  const node = nodes(env).find((n) => podsOn(env, n).some((p) => kept.has(p)));
  expect(node, "a node hosting a single-replica critical pod").to.be.a("string");
  try {
    const r = run(env, "kubectl", drainArgs(node!, "20s"));
    expect(r.status, "the drain must stop at the budgets").to.not.equal(0);
    expect(r.stderr).to.match(/disruption budget/);
    const left = podsOn(env, node!);
    expect(left.length).to.be.greaterThan(0);
    for (const p of left) expect(kept.has(p), `${p} left on ${node}`).to.equal(true);
  } finally {
    must(env, "kubectl", ["uncordon", node!]);
  }
  return node!;
}

/** The lowest ready count seen per replicated workload while `work` runs, sampled every 0.5 s. */
async function lowestReady(
  env: NodeJS.ProcessEnv,
  work: Promise<Run>,
): Promise<Map<string, { low: number; replicas: number }>> {
  const seen = new Map<string, { low: number; replicas: number }>();
  let done = false;
  void work.finally(() => (done = true));
  while (!done) {
    for (const w of workloads(env).filter((w) => w.spec.replicas > 1)) {
      const id = `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`;
      const ready = w.status.readyReplicas ?? 0;
      const prev = seen.get(id);
      seen.set(id, { low: Math.min(prev?.low ?? ready, ready), replicas: w.spec.replicas });
    }
    await sleep(500);
  }
  return seen;
}

/**
 * In a maintenance window, drains every node in turn (the rolling node upgrade a managed cluster does):
 * each drain completes, no replicated workload drops more than one pod below its replicas, and everything
 * is ready again before the next node.
 */
export async function drainEveryNode(env: NodeJS.ProcessEnv): Promise<void> {
  for (const node of nodes(env)) {
    const drain = runAsync(env, "kubectl", drainArgs(node, "300s")).finished(330);
    const lows = await lowestReady(env, drain);
    const r = await drain;
    expect(r.status, `drain ${node}: ${r.stderr.slice(-2000)}`).to.equal(0);
    expect(podsOn(env, node), `pods left on ${node}`).to.deep.equal([]);
    expect(lows.size).to.be.greaterThan(0);
    for (const [id, { low, replicas }] of lows)
      expect(low, `${id} during the drain of ${node}`).to.be.at.least(replicas - 1);
    must(env, "kubectl", ["uncordon", node]);
    await waitAllReady(env);
  }
}

/**
 * A pinned image's version changes (`keel:images.<key>.tag`): the preview updates exactly the workloads that
 * run it, in place; the up rolls their pods onto the new version and replaces no StatefulSet, claim or Secret.
 */
export async function upgradeImage(
  env: NodeJS.ProcessEnv,
  pulumi: Pulumi,
  image: { key: string; repository: string; tag: string },
): Promise<void> {
  const before = stateUids(env);
  pulumi("config", "set", "--path", `keel:images.${image.key}.tag`, image.tag);
  const changes = previewChanges(pulumi);
  expect(changes.length).to.be.greaterThan(0);
  for (const c of changes) expect(c).to.match(/^update (StatefulSet|Deployment|Stack) /);
  pulumi("up", "--yes", "--skip-preview");
  await waitAllReady(env);
  expect(stateUids(env)).to.deep.equal(before);
  const updated = changes.filter((c) => !/ Stack /.test(c)).map((c) => c.split(" ")[2]);
  const running = workloads(env).filter((w) =>
    updated.some((u) => u === w.metadata.name || u.endsWith(`-${w.metadata.name}`)),
  );
  expect(running.length, `workloads of ${updated.join(", ")}`).to.be.greaterThan(0);
  for (const w of running) {
    const images = w.spec.template.spec.containers.map((c: any) => c.image);
    expect(images, w.metadata.name).to.include(`${image.repository}:${image.tag}`);
  }
}

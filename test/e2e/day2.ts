import { expect } from "chai";
import { Run, kubectlJson, must, run, runAsync } from "./harness";

// Day-2 operations on a deployed stack (docs/operations.md): node drains, version upgrades, scaling. Each
// function is one runbook section, run against the real API server by test/e2e/stack.spec.ts.

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
function kindOf(urn: string): string {
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function nodes(env: NodeJS.ProcessEnv): string[] {
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
 * The preview's replacements and deletions of what holds data: a claim, a Secret, a Namespace, or a
 * StatefulSet with claim templates (a database). Stateless workers may come and go with the profile (the
 * small profile runs one combined Synapse stream writer, bigger ones a writer per stream), and one-off Jobs
 * run again with their new resources.
 */
function dataRecreated(pulumi: Pulumi): string[] {
  const preview = JSON.parse(pulumi("preview", "--json").stdout);
  return (preview.steps ?? [])
    .filter((s: any) => s.op === "replace" || s.op === "delete")
    .filter((s: any) => {
      const kind = kindOf(s.urn);
      if (["PersistentVolumeClaim", "Secret", "Namespace"].includes(kind)) return true;
      if (kind !== "StatefulSet") return false;
      // Without its old inputs a StatefulSet counts as holding data.
      const spec = s.oldState?.inputs?.spec;
      return !spec || (spec.volumeClaimTemplates ?? []).length > 0;
    })
    .map((s: any) => `${s.op} ${s.urn.split("::")[3]}`);
}

/**
 * Steps a scaling change must not contain: anything but updates in place, and budgets or autoscalers
 * created or deleted as workloads cross one replica; no claim, Secret or Namespace may be touched at all.
 */
function destructive(changes: string[]): string[] {
  return changes.filter(
    (c) =>
      / (PersistentVolumeClaim|Secret|Namespace) /.test(c) ||
      !(/^update /.test(c) || /^(create|delete) (PodDisruptionBudget|HorizontalPodAutoscaler) /.test(c)),
  );
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

/** A preview that must fail before anything changes, with `message` in its output. */
function refused(env: NodeJS.ProcessEnv, pulumi: Pulumi, message: RegExp): void {
  const before = stateUids(env);
  let failure = "";
  try {
    pulumi("preview");
  } catch (e) {
    failure = String(e);
  }
  expect(failure, "the preview must fail").to.match(message);
  expect(stateUids(env)).to.deep.equal(before);
}

/** The synchrotron workers' pod count: the StatefulSet's, or its autoscaler's floor. */
function synchrotrons(env: NodeJS.ProcessEnv): number {
  const hpa = run(env, "kubectl", ["get", "hpa", "synapse-synchrotron", "-n", "matrix", "-o", "json"]);
  if (hpa.status === 0) return JSON.parse(hpa.stdout).spec.minReplicas;
  return kubectlJson(env, ["get", "statefulset", "synapse-synchrotron", "-n", "matrix"]).spec.replicas;
}

/**
 * Scaling an existing stack: a bigger sizing profile is refused before anything changes while the
 * connection budget, then the cluster's declared capacity, cannot hold it, and previews in place once both
 * can; more Synapse workers are applied in place, and no database, claim or Secret is recreated.
 */
export async function scaleUp(env: NodeJS.ProcessEnv, pulumi: Pulumi): Promise<void> {
  const before = stateUids(env);
  pulumi("config", "set", "keel:sizing", "medium");
  refused(env, pulumi, /keel:matrix\.maxConnections: Synapse needs \d+ connections/);
  pulumi("config", "set", "--path", "keel:matrix.maxConnections", "420");
  refused(env, pulumi, /capacity: requests need [\d.]+ CPU but [\d.]+ of \d+ is usable/);
  // With the nodes it needs declared, the profile previews without recreating anything that holds data.
  // (The dev cluster's 3 nodes cannot run it, so it is not applied.)
  const capacity = pulumi("config", "get", "keel:capacity").stdout.trim();
  const bigger = JSON.parse(capacity);
  bigger.nodes[0].count = 12;
  pulumi("config", "set", "keel:capacity", JSON.stringify(bigger));
  expect(dataRecreated(pulumi)).to.deep.equal([]);
  pulumi("config", "set", "keel:capacity", capacity);
  pulumi("config", "set", "keel:sizing", "small");
  pulumi("config", "rm", "--path", "keel:matrix.maxConnections");
  const count = synchrotrons(env);
  pulumi("config", "set", "--path", "keel:matrix.workers.synchrotron", String(count + 1));
  const changes = previewChanges(pulumi);
  expect(changes.length).to.be.greaterThan(0);
  expect(destructive(changes)).to.deep.equal([]);
  pulumi("up", "--yes", "--skip-preview");
  await waitAllReady(env);
  const after = stateUids(env);
  for (const [key, uid] of Object.entries(before)) expect(after[key], key).to.equal(uid);
  expect(synchrotrons(env)).to.equal(count + 1);
}

/** Back to the default worker count: in place, every claim kept. */
export async function scaleDown(env: NodeJS.ProcessEnv, pulumi: Pulumi): Promise<void> {
  const before = stateUids(env);
  const count = synchrotrons(env);
  pulumi("config", "rm", "--path", "keel:matrix.workers.synchrotron");
  const changes = previewChanges(pulumi);
  expect(changes.length).to.be.greaterThan(0);
  expect(destructive(changes)).to.deep.equal([]);
  pulumi("up", "--yes", "--skip-preview");
  await waitAllReady(env);
  expect(stateUids(env)).to.deep.equal(before);
  expect(synchrotrons(env)).to.equal(count - 1);
}

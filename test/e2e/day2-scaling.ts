import { expect } from "chai";
import { kubectlJson, must, run } from "./harness";
import { Pulumi, kindOf, nodes, previewChanges, stateUids, waitAllReady, workloads } from "./day2";

// Scaling an existing stack (docs/operations.md, Scaling): worker counts and the sizing profile, with the
// nodes the profile needs added to the cluster and removed again, as an operator grows and shrinks a pool.

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

/** Uids of what holds data on the cluster: every claim and Secret, and every StatefulSet with claim templates. */
function dataUids(env: NodeJS.ProcessEnv): Record<string, string> {
  const all = stateUids(env);
  const stateless = new Set(
    workloads(env)
      .filter((w) => w.kind === "StatefulSet" && (w.spec.volumeClaimTemplates ?? []).length === 0)
      .map((w) => `StatefulSet ${w.metadata.namespace}/${w.metadata.name}`),
  );
  return Object.fromEntries(Object.entries(all).filter(([key]) => !stateless.has(key)));
}

/** Everything recorded before is still there as the same object (uid); new objects may have been added. */
function expectDataKept(before: Record<string, string>, after: Record<string, string>): void {
  for (const [key, uid] of Object.entries(before)) expect(after[key], key).to.equal(uid);
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

/** Autoscalers' floors, as "Kind namespace/name" of their target → minReplicas. */
function autoscalerFloors(env: NodeJS.ProcessEnv): Record<string, number> {
  return Object.fromEntries(
    kubectlJson(env, ["get", "hpa", "-A"]).items.map((h: any) => [
      `${h.spec.scaleTargetRef.kind} ${h.metadata.namespace}/${h.spec.scaleTargetRef.name}`,
      h.spec.minReplicas,
    ]),
  );
}

/**
 * Workloads running more than one replica, as "Kind namespace/name", but those an autoscaler sizes: it
 * owns their replicas, and scales them down from a bigger profile's floor only on its metrics.
 */
function replicated(env: NodeJS.ProcessEnv): string[] {
  const autoscaled = autoscalerFloors(env);
  return workloads(env)
    .map((w) => ({ id: `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`, replicas: w.spec.replicas }))
    .filter((w) => w.replicas > 1 && !(w.id in autoscaled))
    .map((w) => w.id)
    .sort();
}

/**
 * Adds `count` kwok nodes shaped like the cluster's first node (a node pool grown by the operator); kwok
 * makes them Ready. Returns their names.
 */
async function addNodes(env: NodeJS.ProcessEnv, count: number): Promise<string[]> {
  const template = kubectlJson(env, ["get", "node", nodes(env)[0]]);
  const names = Array.from({ length: count }, (_, i) => `keel-pool-${i}`);
  const items = names.map((name, i) => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: template.metadata.annotations,
      labels: {
        ...template.metadata.labels,
        "kubernetes.io/hostname": name,
        "topology.kubernetes.io/zone": `local-${"abc"[i % 3]}`,
      },
    },
    spec: { podCIDR: `10.245.${i}.0/24`, podCIDRs: [`10.245.${i}.0/24`] },
    status: {
      capacity: template.status.capacity,
      allocatable: template.status.allocatable,
      addresses: [{ type: "InternalIP", address: `10.1.0.${10 + i}` }],
      nodeInfo: template.status.nodeInfo,
    },
  }));
  must(env, "kubectl", ["create", "-f", "-"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
  });
  must(env, "kubectl", ["wait", "--for=condition=Ready", "--timeout=120s", ...names.map((n) => `node/${n}`)]);
  return names;
}

/** Takes the nodes out of the cluster: cordoned first, their remaining pods deleted, then the nodes. */
function removeNodes(env: NodeJS.ProcessEnv, names: string[]): void {
  for (const node of names)
    must(env, "kubectl", [
      "drain",
      node,
      "--ignore-daemonsets",
      "--delete-emptydir-data",
      "--force",
      // Test cleanup, not the runbook's drain: the pods already have their place on the other nodes.
      "--disable-eviction",
      "--timeout=120s",
    ]);
  must(env, "kubectl", ["delete", ...names.map((n) => `node/${n}`)]);
}

/**
 * A bigger sizing profile on an existing stack is refused before anything changes while the connection
 * budget, then the cluster's declared capacity, cannot hold it. With the nodes it needs added and declared,
 * it applies and goes back to small without replacing anything that holds data.
 */
export async function scaleProfile(env: NodeJS.ProcessEnv, pulumi: Pulumi): Promise<void> {
  const before = dataUids(env);
  const small = replicated(env);
  const floors = autoscalerFloors(env);
  pulumi("config", "set", "keel:sizing", "medium");
  refused(env, pulumi, /keel:matrix\.maxConnections: Synapse needs \d+ connections/);
  pulumi("config", "set", "--path", "keel:matrix.maxConnections", "420");
  refused(env, pulumi, /capacity: requests need [\d.]+ CPU but [\d.]+ of \d+ is usable/);
  const capacity = pulumi("config", "get", "keel:capacity").stdout.trim();
  const bigger = JSON.parse(capacity);
  const pool = await addNodes(env, 12 - bigger.nodes[0].count);
  try {
    bigger.nodes[0].count = 12;
    pulumi("config", "set", "keel:capacity", JSON.stringify(bigger));
    expect(dataRecreated(pulumi)).to.deep.equal([]);
    pulumi("up", "--yes", "--skip-preview");
    await waitAllReady(env, 600);
    expectDataKept(before, dataUids(env));
    expect(replicated(env)).to.include.members(small);
    expect(replicated(env).length, "workloads with more than one replica").to.be.greaterThan(small.length);
    const raised = Object.entries(autoscalerFloors(env)).filter(([id, min]) => min > (floors[id] ?? 0));
    expect(raised.length, "autoscalers with a higher floor").to.be.greaterThan(0);
    // Back to small, onto the original nodes.
    for (const node of pool) must(env, "kubectl", ["cordon", node]);
    pulumi("config", "set", "keel:sizing", "small");
    pulumi("config", "rm", "--path", "keel:matrix.maxConnections");
    expect(dataRecreated(pulumi)).to.deep.equal([]);
    pulumi("up", "--yes", "--skip-preview");
    await waitAllReady(env, 600);
  } finally {
    removeNodes(env, pool);
    pulumi("config", "set", "keel:capacity", capacity);
  }
  await waitAllReady(env, 300);
  pulumi("preview", "--expect-no-changes");
  expectDataKept(before, dataUids(env));
  expect(replicated(env)).to.deep.equal(small);
  expect(autoscalerFloors(env)).to.deep.equal(floors);
}

/** More Synapse workers are applied in place, and no database, claim or Secret is recreated. */
export async function scaleUp(env: NodeJS.ProcessEnv, pulumi: Pulumi): Promise<void> {
  const before = stateUids(env);
  const count = synchrotrons(env);
  pulumi("config", "set", "--path", "keel:matrix.workers.synchrotron", String(count + 1));
  const changes = previewChanges(pulumi);
  expect(changes.length).to.be.greaterThan(0);
  expect(destructive(changes)).to.deep.equal([]);
  pulumi("up", "--yes", "--skip-preview");
  await waitAllReady(env);
  expectDataKept(before, stateUids(env));
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

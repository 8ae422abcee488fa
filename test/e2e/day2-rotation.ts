import { expect } from "chai";
import { Run, kubectlJson } from "./harness";
import { secretsRead } from "../unit/fixtures";

/**
 * Generated values `keel:secretRotation` deliberately leaves alone (README "Generated secrets"), as
 * `namespace/secret key`; TLS Secrets (`kubernetes.io/tls`) and Synapse's signing keys are left alone too.
 */
export const neverRotatedKeys = [
  "ai-core/keycloak-admin password",
  "osint/neo4j-credentials password",
  "osint/rabbitmq-credentials password",
  "osint/kibana-keys saved-objects-key",
  "matrix/synapse-signing-key signing.key",
  "matrix-li/synapse-li-signing-key signing.key",
  "matrix/synapse-federation-ca ca.pem",
];

const rotationKey = "keel.dev/secret-rotation";
const owned = ["-A", "-l", "app.kubernetes.io/managed-by=keel"];

/** Every Opaque Secret in keel's namespaces: `namespace/name key` → base64 value. */
function secretValues(env: NodeJS.ProcessEnv): Map<string, string> {
  const namespaces = new Set(
    kubectlJson(env, ["get", "namespaces", "-l", "app.kubernetes.io/managed-by=keel"]).items.map(
      (n: any) => n.metadata.name,
    ),
  );
  const values = new Map<string, string>();
  for (const s of kubectlJson(env, ["get", "secrets", "-A"]).items) {
    if (!namespaces.has(s.metadata.namespace) || s.type !== "Opaque") continue;
    for (const [key, value] of Object.entries(s.data ?? {}))
      values.set(`${s.metadata.namespace}/${s.metadata.name} ${key}`, value as string);
  }
  return values;
}

/** uid of every StatefulSet, claim and namespace keel owns (claims are owned through their namespace). */
function statefulUids(env: NodeJS.ProcessEnv): Record<string, string> {
  const namespaces = kubectlJson(env, ["get", "namespaces", "-l", "app.kubernetes.io/managed-by=keel"]).items;
  const names = new Set(namespaces.map((n: any) => n.metadata.name));
  const objects = [
    ...namespaces,
    ...kubectlJson(env, ["get", "statefulsets", ...owned]).items,
    ...kubectlJson(env, ["get", "pvc", "-A"]).items.filter((c: any) => names.has(c.metadata.namespace)),
  ];
  return Object.fromEntries(
    objects.map((o: any) => [`${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`, o.metadata.uid]),
  );
}

/** Preview steps that would replace or delete a StatefulSet, claim or namespace. */
function dangerousSteps(previewJson: string): string[] {
  const kinds = ["apps/v1:StatefulSet", "core/v1:PersistentVolumeClaim", "core/v1:Namespace"];
  // urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>
  const typeOf = (urn: string) => urn.split("::")[2].split("$").pop()!;
  return (JSON.parse(previewJson).steps ?? [])
    .filter((s: any) => kinds.includes(typeOf(s.urn).replace(/^kubernetes:/, "")))
    .filter((s: any) => /replace|delete/.test(s.op))
    .map((s: any) => `${s.op} ${s.urn}`);
}

/** StatefulSets the preview updates in place (proves the step filter above sees them). */
function statefulSetUpdates(previewJson: string): string[] {
  return (JSON.parse(previewJson).steps ?? [])
    .filter((s: any) => s.op === "update" && s.urn.split("::")[2].endsWith("kubernetes:apps/v1:StatefulSet"))
    .map((s: any) => s.urn);
}

/**
 * Day-2 secret rotation on the deployed stack: `keel:secretRotation` 0 → 1 (it only goes up, so the stack
 * is left at 1). The preview replaces no StatefulSet, claim or namespace; after the up every generated value
 * has changed except the documented ones, every workload reading a changed Secret runs new pods marked with
 * the rotation, everything is ready, and no StatefulSet, claim or namespace was recreated.
 */
export function rotateSecrets(env: NodeJS.ProcessEnv, pulumi: (...args: string[]) => Run): void {
  const valuesBefore = secretValues(env);
  const uidsBefore = statefulUids(env);
  const podsBefore = new Set(kubectlJson(env, ["get", "pods", "-A"]).items.map((p: any) => p.metadata.uid));
  expect(valuesBefore.size).to.be.greaterThan(30);

  pulumi("config", "set", "keel:secretRotation", "1");
  const preview = pulumi("preview", "--json").stdout;
  expect(dangerousSteps(preview)).to.deep.equal([]);
  expect(statefulSetUpdates(preview).length, "the preview updates StatefulSets in place").to.be.greaterThan(
    5,
  );
  pulumi("up", "--yes", "--skip-preview");

  const valuesAfter = secretValues(env);
  const kept = [...valuesBefore].filter(([k, v]) => valuesAfter.get(k) === v).map(([k]) => k);
  expect(kept.sort()).to.deep.equal(neverRotatedKeys.filter((k) => valuesBefore.has(k)).sort());
  const changed = new Set(
    [...valuesBefore.keys()].filter((k) => !kept.includes(k)).map((k) => k.split(" ")[0]),
  );

  const workloads = kubectlJson(env, ["get", "deployments,statefulsets,daemonsets", ...owned]).items;
  const stale: string[] = [];
  for (const w of workloads) {
    const where = `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`;
    const reads = secretsRead(w.spec.template.spec).filter((s) =>
      changed.has(`${w.metadata.namespace}/${s}`),
    );
    const ready = [w.status.readyReplicas ?? 0, w.status.updatedReplicas ?? 0];
    expect(ready, `${where} ready and updated`).to.deep.equal([w.spec.replicas ?? 1, w.spec.replicas ?? 1]);
    if (reads.length === 0) continue;
    expect(w.spec.template.metadata.annotations?.[rotationKey], `${where} reads ${reads}`).to.equal("1");
    const selector = Object.entries(w.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`);
    const pods = kubectlJson(env, [
      "get",
      "pods",
      "-n",
      w.metadata.namespace,
      "-l",
      selector.join(","),
    ]).items;
    const old = pods.filter((p: any) => podsBefore.has(p.metadata.uid) && !p.metadata.deletionTimestamp);
    stale.push(...old.map((p: any) => `${where}: ${p.metadata.name}`));
  }
  expect(stale, "pods still running from before the rotation").to.deep.equal([]);
  expect(statefulUids(env)).to.deep.equal(uidsBefore);
}

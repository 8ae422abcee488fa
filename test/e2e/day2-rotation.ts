import { expect } from "chai";
import { Run, kubectlJson } from "./harness";
import { previewChanges, stateUids, waitAllReady } from "./day2";
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

/** Keys of keel's Secrets that hold a constant next to generated values (STUNner's auth type). */
const constantKeys = ["webrtc/turn-shared-secret type"];

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

/**
 * Changes other than in-place updates: only the generated values themselves (random resources) and
 * one-off Jobs (whose pod template Kubernetes keeps immutable) may be replaced by a rotation, and the only
 * new objects are the ConfigMaps of PostgreSQL's password adoption script (from rotation 1 on).
 */
function replacements(changes: string[]): string[] {
  return changes.filter(
    (c) =>
      !/^update /.test(c) &&
      !/^replace (RandomPassword|Job) /.test(c) &&
      !/^create ConfigMap [a-z-]+-postgres-rotation$/.test(c),
  );
}

/**
 * Day-2 secret rotation on the deployed stack: `keel:secretRotation` 0 → 1 (it only goes up, so the stack
 * is left at 1). The preview updates Secrets and workloads in place (only the random values and one-off Jobs
 * are replaced); after the up every generated value has changed except the documented ones, every workload
 * reading a changed Secret runs new pods marked with the rotation, everything is ready, and no StatefulSet,
 * claim or Secret was recreated.
 */
export async function rotateSecrets(
  env: NodeJS.ProcessEnv,
  pulumi: (...args: string[]) => Run,
): Promise<void> {
  const valuesBefore = secretValues(env);
  const uidsBefore = stateUids(env);
  const podsBefore = new Set(kubectlJson(env, ["get", "pods", "-A"]).items.map((p: any) => p.metadata.uid));
  expect(valuesBefore.size).to.be.greaterThan(30);

  pulumi("config", "set", "keel:secretRotation", "1");
  const changes = previewChanges(pulumi);
  expect(replacements(changes)).to.deep.equal([]);
  const inPlace = (kind: string) => changes.filter((c) => c.startsWith(`update ${kind} `)).length;
  expect(inPlace("StatefulSet"), "StatefulSets updated in place").to.be.greaterThan(5);
  expect(inPlace("Secret"), "Secrets updated in place").to.be.greaterThan(10);
  pulumi("up", "--yes", "--skip-preview");
  await waitAllReady(env);

  const valuesAfter = secretValues(env);
  const kept = [...valuesBefore].filter(([k, v]) => valuesAfter.get(k) === v).map(([k]) => k);
  const expected = [...neverRotatedKeys, ...constantKeys].filter((k) => valuesBefore.has(k));
  expect(kept.sort()).to.deep.equal(expected.sort());
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
  expect(stateUids(env)).to.deep.equal(uidsBefore);
}

import { expect } from "chai";
import { parseStackConfig } from "../../program/config";
import { deploy } from "../../program/deploy";
import { Recorded, installMocks, ofType, settle } from "./harness";
import { secretsRead, stackConfig } from "./fixtures";

const rotationKey = "keel.dev/secret-rotation";

/**
 * The generated values `keel:secretRotation` deliberately leaves alone (README "Generated secrets"), by
 * RandomPassword name; the reason of each is its `neverRotated` in the component.
 */
export const neverRotated = [
  "ai-core-keycloak-admin-password",
  "osint-neo4j-credentials-password",
  "osint-rabbitmq-credentials-password",
  "osint-kibana-keys-saved-objects-key",
];

async function render(stack: "dev" | "prod", secretRotation: number): Promise<Recorded[]> {
  await installMocks();
  deploy(parseStackConfig({ ...stackConfig(stack), secretRotation }));
  return settle();
}

interface PodOwner {
  kind: string;
  name: string;
  namespace: string;
  template: any;
}

/** Every pod template: Deployments, StatefulSets, DaemonSets, Jobs and CronJobs. */
function podOwners(res: Recorded[]): PodOwner[] {
  return res.flatMap((r) => {
    const kind = r.type.split(":").pop()!;
    const spec = r.inputs.spec;
    const template = kind === "CronJob" ? spec?.jobTemplate?.spec?.template : spec?.template;
    if (!["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].includes(kind) || !template) return [];
    return [{ kind, name: r.name, namespace: r.inputs.metadata.namespace, template }];
  });
}

/** The mock's value of each RandomPassword whose keeper is this rotation. */
function rotatedValues(res: Recorded[], rotation: number): string[] {
  return ofType(res, "random:index/randomPassword:RandomPassword")
    .filter((p) => p.inputs.keepers?.rotation === String(rotation))
    .map((p) => `generated-${p.name}-Zq8vK2mXw9`);
}

/** `namespace/name` of every Secret holding (or derived from) a value of this rotation. */
function rotatedSecrets(res: Recorded[], rotation: number): Set<string> {
  const values = rotatedValues(res, rotation);
  return new Set(
    ofType(res, "core/v1:Secret")
      .filter((s) => values.some((v) => JSON.stringify(s.inputs).includes(v)))
      .map((s) => `${s.inputs.metadata.namespace}/${s.inputs.metadata.name}`),
  );
}

/** What Kubernetes cannot change in place: a change here replaces the object and, for claims, the data. */
function immutable(res: Recorded[]): Record<string, unknown> {
  const of = (type: string, pick: (r: Recorded) => unknown) =>
    Object.fromEntries(ofType(res, type).map((r) => [`${type} ${r.name}`, pick(r)]));
  return JSON.parse(
    JSON.stringify({
      ...of("apps/v1:StatefulSet", (r) => {
        const { selector, serviceName, volumeClaimTemplates, podManagementPolicy } = r.inputs.spec;
        return { name: r.inputs.metadata, selector, serviceName, volumeClaimTemplates, podManagementPolicy };
      }),
      ...of("core/v1:PersistentVolumeClaim", (r) => r.inputs),
      ...of("core/v1:Namespace", (r) => r.inputs.metadata.name),
    }),
  );
}

for (const stack of ["dev", "prod"] as const) {
  describe(`secret rotation in the ${stack} stack (keel:secretRotation 0 → 1)`, function () {
    this.timeout(120000);
    let first: Recorded[];
    let next: Recorded[];
    before(async () => {
      first = await render(stack, 0);
      next = await render(stack, 1);
    });

    it("rotates every generated value except the documented ones, which stay at rotation 0", () => {
      const passwords = ofType(next, "random:index/randomPassword:RandomPassword");
      expect(passwords.length).to.be.greaterThan(20);
      const kept = passwords.filter((p) => p.inputs.keepers.rotation !== "1").map((p) => p.name);
      expect(kept.sort()).to.deep.equal([...neverRotated].sort());
      for (const p of passwords.filter((p) => kept.includes(p.name)))
        expect(p.inputs.keepers, p.name).to.deep.equal({ rotation: "0" });
    });

    it("marks every pod template that reads a rotated Secret with the new rotation, and no other", () => {
      const rotated = rotatedSecrets(next, 1);
      expect(rotated.size).to.be.greaterThan(15);
      const owners = podOwners(next);
      const marked = owners.filter((o) => o.template.metadata?.annotations?.[rotationKey] !== undefined);
      const wrong = owners.flatMap((o) => {
        const reads = secretsRead(o.template.spec).filter((s) => rotated.has(`${o.namespace}/${s}`));
        const mark = o.template.metadata?.annotations?.[rotationKey];
        // The setup job always carries its rotation: it sets the passwords it reads (elasticsearch-setup.ts).
        const want = reads.length > 0 || o.name.endsWith("elasticsearch-setup") ? "1" : undefined;
        return mark === want
          ? []
          : [`${o.kind} ${o.namespace}/${o.name} (reads ${reads.join(", ")}): ${mark}`];
      });
      expect(wrong).to.deep.equal([]);
      expect(marked.length).to.be.greaterThan(20);
    });

    it("marks nothing at rotation 0", () => {
      for (const o of podOwners(first).filter((o) => !o.name.endsWith("elasticsearch-setup")))
        expect(o.template.metadata?.annotations?.[rotationKey], o.name).to.equal(undefined);
    });

    it("replaces no StatefulSet, claim or namespace", () => {
      expect(immutable(next)).to.deep.equal(immutable(first));
      expect(Object.keys(immutable(next)).length).to.be.greaterThan(20);
    });
  });
}

import { expect } from "chai";
import { parseStackConfig } from "../../program/config";
import { deploy } from "../../program/deploy";
import { Recorded, installMocks, ofType, settle } from "./harness";
import { stackConfig } from "./fixtures";

async function render(stack: "dev" | "prod", maintenance?: boolean): Promise<Recorded[]> {
  await installMocks();
  deploy(parseStackConfig({ ...stackConfig(stack), ...(maintenance === undefined ? {} : { maintenance }) }));
  return settle();
}

interface Budget {
  name: string;
  namespace: string;
  replicas: number;
  spec: { minAvailable?: number; maxUnavailable?: number };
}

/** Every PodDisruptionBudget with the replica count of the workloads it selects. */
function budgets(res: Recorded[]): Budget[] {
  const workloads = [...ofType(res, "apps/v1:Deployment"), ...ofType(res, "apps/v1:StatefulSet")];
  return ofType(res, "policy/v1:PodDisruptionBudget").map((pdb) => {
    const { metadata, spec } = pdb.inputs;
    const selected = workloads.filter(
      (w) =>
        w.inputs.metadata.namespace === metadata.namespace &&
        Object.entries(spec.selector.matchLabels).every(
          ([k, v]) => w.inputs.spec.template.metadata.labels[k] === v,
        ),
    );
    expect(selected, `PDB ${metadata.namespace}/${metadata.name} selects one workload`).to.have.length(1);
    const { minAvailable, maxUnavailable } = spec;
    return {
      name: pdb.name,
      namespace: metadata.namespace,
      replicas: selected[0].inputs.spec.replicas ?? 1,
      spec: JSON.parse(JSON.stringify({ minAvailable, maxUnavailable })),
    };
  });
}

/** Pods a drain may evict at once while every pod is healthy. */
function allowed(b: Budget): number {
  if (b.spec.maxUnavailable !== undefined) return b.spec.maxUnavailable;
  return b.replicas - (b.spec.minAvailable ?? 0);
}

for (const stack of ["dev", "prod"] as const) {
  describe(`node maintenance in the ${stack} stack (keel:maintenance)`, function () {
    this.timeout(60000);
    let normal: Budget[];
    let window: Budget[];
    before(async () => {
      normal = budgets(await render(stack));
      window = budgets(await render(stack, true));
    });

    it("outside a window, keeps every single-replica critical pod (minAvailable: 1) and lets one replica of the rest go", () => {
      const kept = normal.filter((b) => b.spec.minAvailable !== undefined);
      expect(kept.length).to.be.greaterThan(5);
      for (const b of kept) expect([b.replicas, b.spec], b.name).to.deep.equal([1, { minAvailable: 1 }]);
      for (const b of normal.filter((b) => !kept.includes(b)))
        expect(b.spec, b.name).to.deep.equal({ maxUnavailable: 1 });
    });

    it("in a window, lets a drain evict one pod of every budget, and changes only the single-replica budgets", () => {
      expect(window.map((b) => b.name)).to.deep.equal(normal.map((b) => b.name));
      for (const b of window) expect(allowed(b), b.name).to.equal(1);
      const changed = window.filter((b, i) => JSON.stringify(b) !== JSON.stringify(normal[i]));
      expect(changed.map((b) => b.name)).to.deep.equal(
        normal.filter((b) => b.spec.minAvailable !== undefined).map((b) => b.name),
      );
    });
  });
}

describe("keel:maintenance", () => {
  it("must be a boolean, named in the error", () => {
    expect(() => parseStackConfig({ ...stackConfig("dev"), maintenance: "yes" })).to.throw(
      /keel:maintenance: must be true or false; got "yes"/,
    );
  });
});

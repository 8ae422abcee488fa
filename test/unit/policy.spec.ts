import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../program/config";
import { renderObjects } from "../../scripts/render/render";
import { repoRoot, stackConfig } from "./fixtures";

const root = repoRoot;

/** Renders a stack's Kubernetes objects (the inputs the program registers) as a manifest file. */
async function render(stack: "dev" | "prod"): Promise<string> {
  const objects = await renderObjects(stack);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "keel-render-")), `${stack}.json`);
  fs.writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  return file;
}

function audit(file: string, config: string): { status: number; findings: any[] } {
  const r = spawnSync(
    process.execPath,
    [path.join(root, "policy-pack/bin/src/cli/audit.js"), "--format", "json", "--config", config, file],
    { encoding: "utf8" },
  );
  if (r.status === 2) throw new Error(r.stderr);
  return { status: r.status ?? -1, findings: JSON.parse(r.stdout) };
}

describe("the policy pack over our own stacks", function () {
  this.timeout(60000);
  for (const stack of ["dev", "prod"] as const) {
    it(`finds no mandatory violation in the ${stack} stack`, async () => {
      const { status, findings } = audit(
        await render(stack),
        path.join(root, `policy-pack/config/${stack}.json`),
      );
      const mandatory = findings.filter((f) => f.level === "mandatory");
      expect(
        mandatory.map((f) => `${f.rule} ${f.kind} ${f.namespace}/${f.name}: ${f.message}`),
      ).to.deep.equal([]);
      expect(status).to.equal(0);
    });

    it(`keeps the ${stack} policy config's capacity equal to the stack's declared capacity`, () => {
      const cfg = parseStackConfig(stackConfig(stack));
      const policy = JSON.parse(fs.readFileSync(path.join(root, `policy-pack/config/${stack}.json`), "utf8"));
      const cpu = cfg.capacity.nodes.reduce((s, n) => s + n.cpu * n.count, 0);
      const mem = cfg.capacity.nodes.reduce((s, n) => s + n.memoryGi * n.count, 0);
      expect(policy["capacity-fit"]).to.deep.equal({
        clusterCpu: cpu,
        clusterMemory: `${mem}Gi`,
        headroomPercent: cfg.capacity.headroomPercent,
        limitOvercommit: cfg.capacity.limitOvercommit,
      });
      expect(policy["acme-air-gapped"].airGapped).to.equal(cfg.airGapped);
    });
  }

  it("flags a deliberately defective stack (keel's own rules are not toothless)", async () => {
    const file = await render("dev");
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    const sts = doc.items.find((o: any) => o.kind === "StatefulSet");
    sts.spec.template.spec.containers[0].image = "docker.io/library/postgres:latest";
    delete sts.spec.template.spec.containers[0].resources;
    fs.writeFileSync(file, JSON.stringify(doc));
    const { status, findings } = audit(file, path.join(root, "policy-pack/config/dev.json"));
    expect(status).to.equal(1);
    const rules = new Set(findings.filter((f) => f.level === "mandatory").map((f) => f.rule));
    expect([...rules]).to.include.members(["mutable-image-tag", "container-resources"]);
  });
});

import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { StackConfig, parseStackConfig, rawFromAllConfig } from "../../program/config";
import { deploy } from "../../program/deploy";
import { policyConfigFor } from "../../scripts/bundle/policy-config";
import { packConfigs } from "../../scripts/policy-config/main";
import { installMocks, settle } from "./harness";
import { repoRoot } from "./fixtures";

function configOf(file: string): StackConfig {
  const doc = parse(fs.readFileSync(path.join(repoRoot, file), "utf8")) as {
    config: Record<string, unknown>;
  };
  return parseStackConfig(
    rawFromAllConfig(
      Object.fromEntries(
        Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
      ),
    ),
  );
}

/** Runs the policy pack's audit command over the stack's rendered objects with `policyConfig`. */
async function audit(cfg: StackConfig, policyConfig: object, edit: (items: any[]) => void = () => undefined) {
  await installMocks();
  deploy(cfg);
  const items = (await settle()).filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.inputs);
  edit(items);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-airgap-audit-"));
  fs.writeFileSync(path.join(dir, "stack.json"), JSON.stringify({ apiVersion: "v1", kind: "List", items }));
  fs.writeFileSync(path.join(dir, "policy.json"), JSON.stringify(policyConfig));
  const r = spawnSync(
    process.execPath,
    [
      path.join(repoRoot, "policy-pack/bin/src/cli/audit.js"),
      "--format",
      "json",
      "--config",
      path.join(dir, "policy.json"),
      path.join(dir, "stack.json"),
    ],
    { encoding: "utf8" },
  );
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status === 2) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as any[]).filter((f) => f.level === "mandatory");
}

describe("bundle: the policy pack's config for an air-gapped stack", function () {
  this.timeout(60000);
  const airgap = () => configOf("Pulumi.airgap.yaml");

  it("allows only the private registry, forbids ACME and declares the stack's capacity, all mandatory", () => {
    const { config, notes } = policyConfigFor(airgap());
    expect(config).to.deep.equal({
      "capacity-fit": { clusterCpu: 24, clusterMemory: "96Gi", headroomPercent: 20, limitOvercommit: 3 },
      "acme-air-gapped": { airGapped: true, enforcementLevel: "mandatory" },
      "image-registry": {
        allowedRegistries: ["registry.site.local:5000/mirror"],
        enforcementLevel: "mandatory",
      },
    });
    expect(notes).to.deep.equal([]);
  });

  it("overrides a stack pack config that would let public registries, ACME or a weaker level through", () => {
    const { config, notes } = policyConfigFor(airgap(), {
      all: "advisory",
      "acme-air-gapped": { airGapped: false },
      "image-registry": { enforcementLevel: "advisory", allowedRegistries: ["docker.io"] },
      "container-resources": "mandatory",
    });
    expect(config["image-registry"]).to.deep.equal({
      allowedRegistries: ["registry.site.local:5000/mirror"],
      enforcementLevel: "mandatory",
    });
    expect(config["acme-air-gapped"]).to.deep.equal({ airGapped: true, enforcementLevel: "mandatory" });
    expect(config["container-resources"]).to.equal("mandatory");
    expect(notes).to.include("acme-air-gapped.airGapped: false -> true (from the stack config)");
    expect(notes).to.include(
      'image-registry.enforcementLevel: "advisory" -> "mandatory" (from the stack config)',
    );
  });

  it("allows the registries of the stack's own images when it has no private registry", () => {
    const { config } = policyConfigFor(configOf("Pulumi.dev.yaml"));
    expect(config["image-registry"]).to.deep.equal({
      allowedRegistries: [
        "docker.io",
        "ghcr.io",
        "quay.io",
        "registry.k8s.io",
        "registry.matrix-li.internal",
      ],
    });
    expect(config["acme-air-gapped"]).to.deep.equal({ airGapped: false });
  });

  it("is what every stack's committed pack config holds (npm run policy-config writes them)", () => {
    const generated = packConfigs(repoRoot);
    expect(generated.map((g) => g.stack)).to.deep.equal(["airgap", "dev", "prod"]);
    for (const { file, text } of generated) {
      expect(fs.readFileSync(path.join(repoRoot, file), "utf8"), file).to.equal(text);
    }
  });

  it("the example air-gapped stack passes the pack with that config", async () => {
    const cfg = airgap();
    expect(await audit(cfg, policyConfigFor(cfg).config)).to.deep.equal([]);
  });

  it("and the pack refuses an image pulled around the mirror", async () => {
    const cfg = airgap();
    const findings = await audit(cfg, policyConfigFor(cfg).config, (items) => {
      const c = items
        .filter((o) => o.kind === "StatefulSet")
        .map((o) => o.spec.template.spec.containers[0])
        .find((x) => x.image.includes("/library/postgres:"));
      c.image = c.image.replace("registry.site.local:5000/mirror/", "docker.io/");
    });
    expect(findings.map((f) => f.rule)).to.deep.equal(["image-registry"]);
    expect(findings[0].message).to.contain("mirror it to registry.site.local:5000/mirror");
  });
});

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { summarize } from "../../scripts/render/compare";
import { recordRegistrations, toDumpYaml } from "../../scripts/render/dump";
import { installMocks, settle } from "./harness";

// The full dump behind `npm run render:compare`, and the comparison's verdict on two dumps.

class Box extends pulumi.ComponentResource {
  constructor(
    name: string,
    data: Record<string, pulumi.Input<string>>,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("keel:test:Box", name, {}, opts);
    new k8s.core.v1.ConfigMap(
      `${name}-cm`,
      { metadata: { name, namespace: "apps" }, data },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

async function dumpOf(data: Record<string, pulumi.Input<string>>): Promise<string> {
  await installMocks();
  const finish = recordRegistrations();
  new Box("box", data, { protect: true });
  await settle();
  return toDumpYaml(finish());
}

describe("render dump and comparison", () => {
  it("dumps components and their children with URN, parent, options and inputs, secrets as a digest", async () => {
    const yaml = await dumpOf({ mode: "fast", password: pulumi.secret("hunter2") as any });
    expect(yaml).to.include("- urn: urn:pulumi:unit::keel::keel:test:Box::box\n  type: keel:test:Box");
    expect(yaml).to.include("urn:pulumi:unit::keel::keel:test:Box$kubernetes:core/v1:ConfigMap::box-cm");
    expect(yaml).to.include("  parent: urn:pulumi:unit::keel::keel:test:Box::box\n");
    expect(yaml).to.include("    protect: true");
    expect(yaml).to.match(/password: "\[secret sha256:[0-9a-f]{16}\]"/);
    expect(yaml).not.to.include("hunter2");
    expect(yaml).to.include("mode: fast");
  });

  it("is the same for the same program and reports a changed default and a changed secret", async () => {
    const base = await dumpOf({ mode: "fast", password: pulumi.secret("a") as any });
    const again = await dumpOf({ mode: "fast", password: pulumi.secret("a") as any });
    expect(summarize("dev", base, again)).to.deep.equal({
      same: true,
      text: "dev: 2 resources before, 2 after: identical",
    });
    const cm = "urn:pulumi:unit::keel::keel:test:Box$kubernetes:core/v1:ConfigMap::box-cm";
    for (const changed of [
      { mode: "slow", password: pulumi.secret("a") },
      { mode: "fast", password: pulumi.secret("b") },
    ]) {
      const summary = summarize("dev", base, await dumpOf(changed as any));
      expect(summary.same).to.equal(false);
      expect(summary.text).to.equal(
        `dev: 2 resources before, 2 after: 1 changed, 0 added, 0 removed\n  ~ ${cm}`,
      );
    }
  });

  it("reports added and removed resources", async () => {
    const before = await dumpOf({ mode: "fast" });
    await installMocks();
    const finish = recordRegistrations();
    new Box("other", { mode: "fast" });
    await settle();
    const summary = summarize("prod", before, toDumpYaml(finish()));
    expect(summary.same).to.equal(false);
    expect(summary.text).to.match(/^prod: 2 resources before, 2 after: 0 changed, 2 added, 2 removed\n/);
    expect(summary.text).to.include("  + urn:pulumi:unit::keel::keel:test:Box::other");
    expect(summary.text).to.include("  - urn:pulumi:unit::keel::keel:test:Box::box");
  });
});

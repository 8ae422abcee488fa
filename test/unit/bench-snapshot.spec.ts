import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { snapshotTree } from "../../scripts/bench/projects";

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** A repository in miniature: a program, one workspace package with data files, a dependency, a pack. */
function fakeRepository(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "keel-snap-root-"));
  write(path.join(root, "Pulumi.yaml"), "name: keel\n");
  write(path.join(root, "Pulumi.dev.yaml"), "config: {}\n");
  write(path.join(root, "package.json"), "{}");
  write(path.join(root, "bin", "index.js"), "v1");
  write(path.join(root, "components", "core", "package.json"), JSON.stringify({ files: ["dist", "sh"] }));
  write(path.join(root, "components", "core", "dist", "index.js"), "v1");
  write(path.join(root, "components", "core", "sh", "run.sh"), "v1");
  write(path.join(root, "components", "core", "src", "index.ts"), "source");
  write(path.join(root, "node_modules", "dep", "index.js"), "dep");
  fs.mkdirSync(path.join(root, "node_modules", "@keel"));
  fs.symlinkSync("../../components/core", path.join(root, "node_modules", "@keel", "core"));
  for (const f of [
    "package.json",
    "PulumiPolicy.yaml",
    "config/prod.json",
    "bin/src/index.js",
    "scripts/policy-server-patch.js",
  ])
    write(path.join(root, "policy-pack", f), "v1");
  fs.mkdirSync(path.join(root, "policy-pack", "node_modules"));
  return root;
}

describe("bench: snapshot of the compiled tree", () => {
  it("copies what the previews run, links the rest, and later builds in the repository do not reach it", () => {
    const root = fakeRepository();
    const snap = snapshotTree(root, path.join(fs.mkdtempSync(path.join(os.tmpdir(), "keel-snap-")), "s"));
    for (const f of [
      "bin/index.js",
      "components/core/dist/index.js",
      "components/core/sh/run.sh",
      "policy-pack/bin/src/index.js",
    ])
      write(path.join(root, f), "v2");
    const read = (f: string) => fs.readFileSync(path.join(snap, f), "utf8");
    expect(read("bin/index.js")).to.equal("v1");
    expect(read("node_modules/@keel/core/dist/index.js")).to.equal("v1");
    expect(read("node_modules/@keel/core/sh/run.sh")).to.equal("v1");
    expect(read("policy-pack/bin/src/index.js")).to.equal("v1");
    expect(read("policy-pack/config/prod.json")).to.equal("v1");
    expect(read("policy-pack/scripts/policy-server-patch.js")).to.equal(
      "v1",
      "the replay patches what the bundle does",
    );
    expect(read("Pulumi.dev.yaml")).to.equal("config: {}\n");
    expect(fs.existsSync(path.join(snap, "components", "core", "src"))).to.equal(false);
    expect(fs.realpathSync(path.join(snap, "node_modules", "dep"))).to.equal(
      fs.realpathSync(path.join(root, "node_modules", "dep")),
    );
    expect(fs.realpathSync(path.join(snap, "policy-pack", "node_modules"))).to.equal(
      fs.realpathSync(path.join(root, "policy-pack", "node_modules")),
    );
  });
});

import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { nodeToShipProblem, pinnedNodeVersion } from "../../scripts/bundle/node-pin";
import { repoRoot as repo } from "./fixtures";

function engines(file: string): string | undefined {
  return (JSON.parse(fs.readFileSync(path.join(repo, file), "utf8")) as { engines?: { node?: string } })
    .engines?.node;
}

describe("the pinned Node.js (scripts/node/pins.sh)", () => {
  it("is Node.js 24 LTS, and every package's engines asks for that major", () => {
    const major = pinnedNodeVersion(repo).split(".")[0];
    expect(major).to.equal("24");
    const packages = [
      "package.json",
      "policy-pack/package.json",
      ...fs.readdirSync(path.join(repo, "components")).map((c) => `components/${c}/package.json`),
    ];
    for (const file of packages) expect(engines(file), file).to.equal(`>=${major}`);
  });

  it("the pull-request workflow sets up the pinned Node.js", () => {
    const pinned = pinnedNodeVersion(repo);
    const workflows = path.join(repo, ".github", "workflows");
    const versions = fs
      .readdirSync(workflows)
      .flatMap((f) => [
        ...fs.readFileSync(path.join(workflows, f), "utf8").matchAll(/node-version:\s*(\S+)/g),
      ])
      .map((m) => m[1]);
    expect(versions).to.not.be.empty;
    expect(versions).to.deep.equal(versions.map(() => pinned));
  });

  it("a bundle ships only the pinned Node.js", () => {
    expect(nodeToShipProblem("v24.22.3", "24.22.3")).to.equal(undefined);
    expect(nodeToShipProblem("v20.20.2", "24.22.3")).to.match(
      /would ship Node.js v20.20.2, not the pinned v24.22.3/,
    );
    expect(nodeToShipProblem("v24.22.4", "24.22.3")).to.match(/npm run bundle/);
  });
});

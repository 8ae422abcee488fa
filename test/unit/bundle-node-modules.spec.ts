import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  Lockfile,
  copyProductionTree,
  installedPackages,
  productionPlan,
  unresolvedDependencies,
} from "../../scripts/bundle/node-modules";
import { repoRoot } from "./fixtures";

describe("bundle: production node_modules", () => {
  const lock: Lockfile = {
    lockfileVersion: 3,
    packages: {
      "": { version: "1.0.0" },
      "node_modules/sdk": { version: "1.0.0" },
      "node_modules/opt-native": { version: "1.0.0", optional: true },
      "node_modules/typescript": { version: "5.0.0", dev: true },
      "node_modules/fsevents": { version: "2.0.0", devOptional: true },
      "node_modules/@app/core": { resolved: "components/core", link: true },
      "node_modules/@app/tools": { resolved: "tools", link: true, dev: true },
      "components/core": { version: "0.1.0" },
      "components/core/node_modules/left-pad": { version: "1.3.0" },
      tools: { version: "0.1.0", dev: true },
    },
  };

  it("keeps production packages, materializes workspaces where their links are, leaves dev ones out", () => {
    expect(productionPlan(lock)).to.deep.equal([
      { from: "components/core", to: "node_modules/@app/core", workspace: true, optional: false },
      {
        from: "components/core/node_modules/left-pad",
        to: "node_modules/@app/core/node_modules/left-pad",
        workspace: false,
        optional: false,
      },
      { from: "node_modules/opt-native", to: "node_modules/opt-native", workspace: false, optional: true },
      { from: "node_modules/sdk", to: "node_modules/sdk", workspace: false, optional: false },
    ]);
  });

  it("refuses an npm 6 lockfile", () => {
    expect(() => productionPlan({ lockfileVersion: 1 })).to.throw(/lockfileVersion 2 or 3/);
  });

  it("plans the repository's own tree: @keel/* from components/, the SDKs, no test or build tools", () => {
    const plan = productionPlan(
      JSON.parse(fs.readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")),
    );
    const to = new Map(plan.map((s) => [s.to, s]));
    expect(to.get("node_modules/@keel/core")).to.deep.include({ from: "components/core", workspace: true });
    expect(to.has("node_modules/@pulumi/kubernetes")).to.equal(true);
    for (const dev of ["typescript", "mocha", "eslint", "chai", "@pulumi/policy"]) {
      expect(to.has(`node_modules/${dev}`), dev).to.equal(false);
    }
  });

  describe("copying and checking a tree", () => {
    let src: string;
    let dst: string;
    const write = (file: string, content: unknown) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
    };
    beforeEach(() => {
      src = fs.mkdtempSync(path.join(os.tmpdir(), "keel-nm-src-"));
      dst = fs.mkdtempSync(path.join(os.tmpdir(), "keel-nm-dst-"));
      write(path.join(src, "node_modules/sdk/package.json"), {
        name: "sdk",
        version: "1.0.0",
        dependencies: { "left-pad": "1" },
        pulumi: { resource: true, name: "sdk", version: "1.0.0" },
      });
      write(path.join(src, "node_modules/sdk/index.js"), "");
      write(path.join(src, "components/core/package.json"), {
        name: "@app/core",
        version: "0.1.0",
        files: ["dist"],
        dependencies: { "left-pad": "1" },
        peerDependencies: { sdk: "1", ts: "5" },
        peerDependenciesMeta: { ts: { optional: true } },
      });
      write(path.join(src, "components/core/dist/index.js"), "");
      write(path.join(src, "components/core/src/index.ts"), "");
      write(path.join(src, "components/core/README.md"), "");
      write(path.join(src, "components/core/node_modules/left-pad/package.json"), {
        name: "left-pad",
        version: "1.3.0",
      });
      fs.mkdirSync(path.join(src, "node_modules/@app"), { recursive: true });
      fs.symlinkSync(path.join(src, "components/core"), path.join(src, "node_modules/@app/core"));
    });
    afterEach(() => {
      fs.rmSync(src, { recursive: true, force: true });
      fs.rmSync(dst, { recursive: true, force: true });
    });

    it("copies a workspace's published files as a real folder and finds every dependency resolvable", () => {
      const result = copyProductionTree(src, dst, productionPlan(lock));
      expect(result.packages).to.equal(3); // sdk, @app/core and its left-pad; the optional one is absent
      const core = path.join(dst, "node_modules/@app/core");
      expect(fs.lstatSync(core).isSymbolicLink()).to.equal(false);
      expect(fs.readdirSync(core).sort()).to.deep.equal([
        "README.md",
        "dist",
        "node_modules",
        "package.json",
      ]);
      // sdk needs left-pad, which only @app/core carries: the check must say so.
      expect(unresolvedDependencies(dst)).to.deep.equal(["node_modules/sdk needs left-pad"]);
      write(path.join(dst, "node_modules/left-pad/package.json"), { name: "left-pad", version: "1.3.0" });
      expect(unresolvedDependencies(dst)).to.deep.equal([]);
      expect(installedPackages(dst).find((p) => p.name === "sdk")?.pulumi).to.deep.equal({
        resource: true,
        name: "sdk",
        version: "1.0.0",
      });
    });

    it("stops when an installed package or a workspace build output is missing", () => {
      fs.rmSync(path.join(src, "node_modules/sdk"), { recursive: true });
      expect(() => copyProductionTree(src, dst, productionPlan(lock))).to.throw(
        /node_modules\/sdk .* run `npm ci`/,
      );
      write(path.join(src, "node_modules/sdk/package.json"), { name: "sdk", version: "1.0.0" });
      fs.rmSync(path.join(src, "components/core/dist"), { recursive: true });
      expect(() => copyProductionTree(src, dst, productionPlan(lock))).to.throw(
        /components\/core\/dist is missing/,
      );
    });
  });
});

import { expect } from "chai";
import { spawnSync } from "child_process";
import { builtinModules } from "module";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildManifest, manifestName } from "../../scripts/bundle/site/checksums";
import { compareStates, summarizeState } from "../../scripts/bundle/site/state";
import { repoRoot } from "./fixtures";

// What runs at the site: deploy.sh and tools/*.js (compiled from scripts/bundle/site), with Node.js and
// nothing else: no repository, no node_modules.
describe("bundle: the site's tools", () => {
  const siteJs = path.join(repoRoot, "bin", "scripts", "bundle", "site");
  const deploySh = path.join(repoRoot, "scripts", "bundle", "deploy.sh");

  it("need only Node builtins and each other", () => {
    const files = fs.readdirSync(siteJs).filter((f) => f.endsWith(".js"));
    expect(files.sort()).to.deep.equal([
      "checksums.js",
      "cli.js",
      "image-layout.js",
      "image-reference.js",
      "push-images.js",
      "registry.js",
      "state.js",
    ]);
    for (const f of files) {
      const requires = [
        ...fs.readFileSync(path.join(siteJs, f), "utf8").matchAll(/require\("([^"]+)"\)/g),
      ].map((m) => m[1]);
      for (const r of requires) {
        const ok = builtinModules.includes(r) || (r.startsWith("./") && files.includes(`${r.slice(2)}.js`));
        expect(ok, `${f} requires ${r}`).to.equal(true);
      }
    }
  });

  it("run from a bare folder: verify a bundle, check images, compare states", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-site-tools-"));
    const tools = path.join(dir, "tools");
    fs.mkdirSync(tools);
    for (const f of fs.readdirSync(siteJs).filter((x) => x.endsWith(".js"))) {
      fs.copyFileSync(path.join(siteJs, f), path.join(tools, f === "cli.js" ? "site.js" : f));
    }
    fs.writeFileSync(path.join(dir, "images.txt"), "reg/m/a:1\nreg/m/b:2\n");
    fs.writeFileSync(path.join(dir, manifestName), buildManifest(dir));
    const site = (...args: string[]) =>
      spawnSync(process.execPath, [path.join(tools, "site.js"), ...args], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: "/usr/bin:/bin" },
      });
    expect(site("verify", dir).status).to.equal(0);
    fs.writeFileSync(path.join(dir, "catalog.txt"), "reg/m/a:1\n");
    const missing = site("images", path.join(dir, "images.txt"), "--catalog", path.join(dir, "catalog.txt"));
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.contain("1 of 2 images are in the registry catalog");
    expect(missing.stderr).to.contain("missing (1):\n    reg/m/b:2");
    const allowed = site(
      "images",
      path.join(dir, "images.txt"),
      "--catalog",
      path.join(dir, "catalog.txt"),
      "--allow-missing",
    );
    expect(allowed.status).to.equal(0);
    expect(site("images", path.join(dir, "images.txt")).stderr).to.contain("was NOT checked");
    const state = (time: string) => ({ version: 3, deployment: { manifest: { time }, resources: [] } });
    fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify(state("2026-11-22T14:24:43.438972975Z")));
    fs.writeFileSync(path.join(dir, "b.json"), JSON.stringify(state("2026-11-22T14:24:43.438972Z")));
    expect(site("state-compare", path.join(dir, "a.json"), path.join(dir, "b.json")).stdout).to.equal(
      "newer\n",
    );
    fs.writeFileSync(path.join(dir, "extra"), "");
    const changed = site("verify", dir);
    expect(changed.status).to.equal(1);
    expect(changed.stderr).to.contain(
      "not in the manifest (4):\n    a.json\n    b.json\n    catalog.txt\n    extra\n",
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("order states by their checkpoint time to the nanosecond", () => {
    const at = (time?: string) =>
      summarizeState({ version: 3, deployment: { manifest: time ? { time } : {}, resources: [] } });
    expect(compareStates(at("2026-11-22T14:24:43.5Z"), at("2026-11-22T14:24:43.438972975Z"))).to.equal(
      "newer",
    );
    expect(
      compareStates(at("2026-11-22T14:24:43.438972975Z"), at("2026-11-22T14:24:43.438972976Z")),
    ).to.equal("older");
    expect(compareStates(at("2026-11-22T15:24:43+01:00"), at("2026-11-22T14:24:43Z"))).to.equal("same");
    expect(compareStates(at(undefined), at("2026-11-22T14:24:43Z"))).to.equal("same");
  });

  it("deploy.sh parses, documents its options and refuses bad arguments before doing anything", () => {
    expect(spawnSync("bash", ["-n", deploySh]).status).to.equal(0);
    const help = spawnSync("bash", [deploySh, "--help"], { encoding: "utf8" });
    expect(help.status).to.equal(0);
    for (const o of [
      "--kubeconfig",
      "--public-key",
      "--allow-unsigned",
      "--registry-catalog",
      "--state-out",
      "--import-state",
      "--destroy",
    ]) {
      expect(help.stdout).to.contain(o);
    }
    const unknown = spawnSync("bash", [deploySh, "--fast"], { encoding: "utf8" });
    expect(unknown.status).to.equal(1);
    expect(unknown.stderr).to.contain("unknown argument --fast");
    const noValue = spawnSync("bash", [deploySh, "--kubeconfig"], { encoding: "utf8" });
    expect(noValue.stderr).to.contain("--kubeconfig needs a value");
  });
});

import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ensureProgram, fileOf, renderStack, root, scratchDir, versionOf } from "./harness";

// The Matrix antivirus Python (components/matrix/python/*.py) under ruff, as it ships: each script with the
// shared protocols included, taken from the dev stack's ConfigMaps. Rules: test/conformance/ruff.toml.

const config = path.join(root, "test/conformance/ruff.toml");

function lint(ruff: string, dir: string): { status: number | null; output: string } {
  const r = spawnSync(ruff, ["check", "--no-cache", "--config", config, "--output-format", "concise", dir], {
    encoding: "utf8",
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("the Matrix antivirus Python under ruff", function () {
  let ruff: string;
  let scripts: Record<string, string>;
  const dirs: string[] = [];
  const scratch = (prefix: string) => dirs[dirs.push(scratchDir(prefix)) - 1];

  before(async () => {
    ruff = ensureProgram("ruff");
    console.log(`      ${versionOf(ruff, ["--version"])}`);
    const res = await renderStack("dev");
    scripts = {
      "av_scan_worker.py": fileOf(res, "ConfigMap", /^matrix-av-scan-worker-script$/, "av_scan_worker.py"),
      "synapse_av_checker.py": fileOf(
        res,
        "ConfigMap",
        /^matrix-av-synapse-module$/,
        "synapse_av_checker.py",
      ),
    };
  });

  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it("finds nothing in the scan worker and the Synapse module", () => {
    const dir = scratch("ruff-clean");
    for (const [file, text] of Object.entries(scripts)) fs.writeFileSync(path.join(dir, file), text);
    const r = lint(ruff, dir);
    expect(r.output).to.match(/All checks passed/);
    expect(r.status, r.output).to.equal(0);
  });

  it("reports an undefined name and an unused import (the check can fail)", () => {
    const dir = scratch("ruff-broken");
    const broken =
      scripts["synapse_av_checker.py"].replace("import logging\n", "import logging\nimport json\n") +
      "\n\ndef broken():\n    return undefined_name\n";
    fs.writeFileSync(path.join(dir, "synapse_av_checker.py"), broken);
    const r = lint(ruff, dir);
    expect(r.status, r.output).to.equal(1);
    expect(r.output).to.match(/synapse_av_checker\.py:\d+:\d+: F401 .*json/);
    expect(r.output).to.match(/synapse_av_checker\.py:\d+:\d+: F821 .*undefined_name/);
  });
});

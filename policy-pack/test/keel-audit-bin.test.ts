import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BUNDLE, CACHE } from "../src/cli/keel-audit";
import { PACK_DIR, SEEDS_CONFIG, SEEDS_DIR } from "./helpers";

/** The installable command: package.json's bin, the compiled launcher it calls, its bundle and code cache. */
const BIN = path.join(PACK_DIR, "launcher", "keel-audit.js");
const LAUNCHER = path.join(PACK_DIR, "bin", "src", "cli", "keel-audit.js");
const MODULES_CLI = path.join(PACK_DIR, "bin", "src", "cli", "audit.js");

interface Bundler {
  bundleText(): Promise<{ text: string; inputs: string[] }>;
}

const bundler = require(path.join(PACK_DIR, "scripts", "bundle-audit.js")) as Bundler;

const ONE_OBJECT =
  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n  namespace: x\ndata:\n  LOG_LEVEL: info\n";

/** The module files a run of `cli` loaded (Node.js's require cache at exit), through a --require hook. */
function modulesLoaded(cli: string): { status: number | null; modules: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-bin-"));
  const hook = path.join(dir, "hook.js");
  const out = path.join(dir, "modules.json");
  fs.writeFileSync(
    hook,
    `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));\n`,
  );
  fs.writeFileSync(path.join(dir, "one.yaml"), ONE_OBJECT);
  const result = spawnSync(process.execPath, ["--require", hook, cli, path.join(dir, "one.yaml")], {
    encoding: "utf8",
  });
  return {
    status: result.status,
    modules: (JSON.parse(fs.readFileSync(out, "utf8")) as string[]).filter((m) => m !== hook),
  };
}

describe("keel-audit (the package's bin)", () => {
  it("package.json's bin keel-audit is launcher/keel-audit.js, a shell script that runs Node.js on itself", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8")) as {
      bin: Record<string, string>;
      files: string[];
    };
    assert.equal(path.join(PACK_DIR, pkg.bin["keel-audit"]!), BIN);
    assert.ok(pkg.files.includes("launcher/"), "npm pack would leave the bin out");
    assert.match(
      fs.readFileSync(BIN, "utf8"),
      /^#!\/bin\/sh\n":" \/\/; unset NODE_EXTRA_CA_CERTS; exec node "\$0" "\$@"\n/,
    );
  });

  it("run as a command, the bin runs `node` on itself without NODE_EXTRA_CA_CERTS (Node.js 20 loads it at start-up)", () => {
    // A `node` first on PATH that reports what it was given instead of running anything.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-bin-"));
    fs.writeFileSync(
      path.join(dir, "node"),
      '#!/bin/sh\necho "NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS-unset} KEEP=$KEEP"\nprintf "%s\\n" "$@"\n',
      { mode: 0o755 },
    );
    const env = {
      ...process.env,
      NODE_EXTRA_CA_CERTS: "/etc/ssl/extra.pem",
      KEEP: "kept",
      PATH: `${dir}${path.delimiter}${process.env.PATH ?? ""}`,
    };
    const run = spawnSync(BIN, ["--format", "json", "a file.yaml"], { encoding: "utf8", env });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `NODE_EXTRA_CA_CERTS=unset KEEP=kept\n${BIN}\n--format\njson\na file.yaml\n`);
  });

  it("bin/keel-audit/bundle.js is built from the current sources (npm run build), with a code cache made for it", async function () {
    this.timeout(60000);
    const { text } = await bundler.bundleText();
    assert.ok(
      text === fs.readFileSync(BUNDLE, "utf8"),
      "bin/keel-audit/bundle.js is out of date: run npm run build",
    );
    const firstLine = text.slice(0, text.indexOf("\n"));
    assert.match(firstLine, /^\/\/ keel-audit [0-9a-f]{64}$/);
    assert.equal(
      fs
        .readFileSync(CACHE)
        .subarray(0, firstLine.length + 1)
        .toString(),
      firstLine + "\n",
      "the code cache was made for another bundle",
    );
  });

  it("the bundle holds the pack's sources and js-yaml only: no @pulumi module", async function () {
    this.timeout(60000);
    const { inputs } = await bundler.bundleText();
    assert.ok(
      inputs.some((i) => i === "src/cli/audit.ts") && inputs.some((i) => i.startsWith("src/rules/")),
      inputs.join(" "),
    );
    assert.deepEqual(
      inputs.filter((i) => !i.startsWith("src/") && !/(^|\/)node_modules\/js-yaml\//.test(i)),
      [],
    );
  });

  it("a one-file run of keel-audit loads no module file but the bin and the launcher (so no @pulumi module)", () => {
    const { status, modules } = modulesLoaded(BIN);
    assert.equal(status, 0);
    assert.deepEqual(modules, [BIN, LAUNCHER]);
  });

  it("a one-file run of the compiled modules (node bin/src/cli/audit.js) loads no @pulumi module either", () => {
    const { status, modules } = modulesLoaded(MODULES_CLI);
    assert.equal(status, 0);
    assert.ok(modules.length > 20, `the hook saw the modules: ${modules.length}`);
    assert.deepEqual(
      modules.filter((m) => m.includes(`${path.sep}@pulumi${path.sep}`)),
      [],
    );
  });

  it("reports exactly what the compiled modules report, with the same exit status", () => {
    const args = ["--format", "json", "--config", SEEDS_CONFIG, SEEDS_DIR];
    const bundled = spawnSync(BIN, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const modules = spawnSync(process.execPath, [MODULES_CLI, ...args], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(bundled.status, 1);
    assert.equal(bundled.status, modules.status);
    assert.ok(bundled.stdout.length > 1000);
    assert.ok(bundled.stdout === modules.stdout, "the bundle's report differs from the modules'");
  });
});

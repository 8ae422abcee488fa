#!/usr/bin/env node
/**
 * Bundles the audit command (src/cli/audit-main.ts and everything it imports, js-yaml included) into one file,
 * bin/keel-audit/bundle.js, and makes V8's code cache for it (bin/keel-audit/bundle.cache) by running it once
 * over the hardened fixtures through the package's bin, bin/src/cli/keel-audit.js (compiled by tsc first).
 * Node.js then reads one file at start-up instead of resolving and compiling ~90 CommonJS modules, which was
 * most of a one-file audit's CPU time. `npm run build` (so `prepare` and `npm test`) runs this;
 * test/bundle.test.ts checks that the bundle is current and holds no @pulumi module.
 */
"use strict";
const { spawnSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const PACK_DIR = path.resolve(__dirname, "..");
const BUNDLE_DIR = path.join(PACK_DIR, "bin", "keel-audit");
const BUNDLE = path.join(BUNDLE_DIR, "bundle.js");
const CACHE = path.join(BUNDLE_DIR, "bundle.cache");
const LAUNCHER = path.join(PACK_DIR, "bin", "src", "cli", "keel-audit.js");

/**
 * The bundle's text as built from the sources now: esbuild's output after a first line naming its SHA-256,
 * which the code cache repeats so that a cache is never used with another bundle. Writes nothing.
 */
async function bundleText() {
  let esbuild;
  try {
    esbuild = require("esbuild");
  } catch {
    throw new Error("esbuild (a devDependency) is not installed: run npm ci in policy-pack/");
  }
  const result = await esbuild.build({
    absWorkingDir: PACK_DIR,
    entryPoints: ["src/cli/audit-main.ts"],
    outfile: BUNDLE,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    write: false,
  });
  const text = result.outputFiles[0].text;
  const sha = crypto.createHash("sha256").update(text).digest("hex");
  return { text: `// keel-audit ${sha}\n${text}`, inputs: Object.keys(result.metafile.inputs).sort() };
}

async function build() {
  const { text, inputs } = await bundleText();
  fs.mkdirSync(BUNDLE_DIR, { recursive: true });
  fs.writeFileSync(BUNDLE, text);
  fs.rmSync(CACHE, { force: true });
  const run = spawnSync(
    process.execPath,
    [LAUNCHER, "--format", "json", path.join(PACK_DIR, "test", "fixtures", "hardened")],
    {
      env: { ...process.env, KEEL_AUDIT_WRITE_CACHE: "1" },
      encoding: "utf8",
    },
  );
  if (run.status !== 0 && run.status !== 1) {
    throw new Error(`the bundle failed on the hardened fixtures (exit ${run.status}): ${run.stderr}`);
  }
  return { text, inputs };
}

module.exports = { BUNDLE, CACHE, bundleText };

if (require.main === module) {
  build().then(
    ({ text, inputs }) =>
      process.stdout.write(
        `bundle-audit: ${path.relative(process.cwd(), BUNDLE)} (${inputs.length} sources, ${Math.round(text.length / 1024)} KiB) and its code cache\n`,
      ),
    (err) => {
      process.stderr.write(`bundle-audit: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}

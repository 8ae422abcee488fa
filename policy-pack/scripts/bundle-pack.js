#!/usr/bin/env node
/**
 * Bundles the policy pack the engine runs (src/index.ts, keel's rules, @pulumi/policy and js-yaml) into one
 * file, bin/src/index.bundle.js, package.json's `main`: next to tsc's output, so that whatever ships the
 * JavaScript files of bin/src (npm pack, the air-gapped bundle) ships it. @pulumi/policy loads all of
 * @pulumi/pulumi (≈ 0.7 s of CPU) for its `asset` classes alone; in the bundle `require("@pulumi/pulumi")` is scripts/pulumi-asset-shim.js.
 * The modules the engine's launcher (@pulumi/pulumi/cmd/run-policy-pack) has loaded already — @pulumi/pulumi's
 * files, gRPC, protobuf — stay outside the bundle, so the pack shares them instead of loading a second copy.
 * @pulumi/policy's server.js is patched to build AnalyzeStack's resource objects once per request instead of
 * once per policy (scripts/policy-server-patch.js).
 * `npm run build` (so `prepare` and `npm test`) runs this; test/pack-bundle.test.ts checks the result.
 */
"use strict";
const fs = require("fs");
const path = require("path");
const { POLICY_SERVER, patchPolicyServer } = require("./policy-server-patch");

const PACK_DIR = path.resolve(__dirname, "..");
const PACK_BUNDLE = path.join(PACK_DIR, "bin", "src", "index.bundle.js");
const SHIM = path.join(__dirname, "pulumi-asset-shim.js");
/** Left to Node.js's resolution at run time: what the launcher loads anyway. */
const EXTERNAL = /^(@pulumi\/pulumi\/|@grpc\/|google-protobuf(\/|$))/;

const resolvePulumi = {
  name: "keel-pack-resolve",
  setup(build) {
    build.onResolve({ filter: /^@pulumi\/pulumi$/ }, () => ({ path: SHIM }));
    build.onResolve({ filter: EXTERNAL }, (args) => ({ path: args.path, external: true }));
    build.onLoad({ filter: POLICY_SERVER }, (args) => ({
      contents: patchPolicyServer(fs.readFileSync(args.path, "utf8")),
      loader: "js",
    }));
  },
};

/** Bundles `entry` (relative to `dir`) into `outfile`; returns esbuild's metafile inputs. */
async function bundlePack(dir, entry, outfile) {
  let esbuild;
  try {
    esbuild = require("esbuild");
  } catch {
    throw new Error("esbuild (a devDependency) is not installed: run npm ci in policy-pack/");
  }
  const result = await esbuild.build({
    absWorkingDir: dir,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    plugins: [resolvePulumi],
  });
  return Object.keys(result.metafile.inputs).sort();
}

module.exports = { PACK_BUNDLE, bundlePack };

/** `node scripts/bundle-pack.js [dir entry outfile]`: keel's pack by default; the bench bundles its empty pack. */
if (require.main === module) {
  const [dir, entry, outfile] =
    process.argv.length > 2 ? process.argv.slice(2) : [PACK_DIR, "src/index.ts", PACK_BUNDLE];
  if (!dir || !entry || !outfile) {
    process.stderr.write("usage: bundle-pack.js [<pack folder> <entry> <output file>]\n");
    process.exit(2);
  }
  bundlePack(path.resolve(dir), entry, path.resolve(outfile)).then(
    (inputs) =>
      process.stdout.write(
        `bundle-pack: ${path.relative(process.cwd(), outfile)} (${inputs.length} sources)\n`,
      ),
    (err) => {
      process.stderr.write(`bundle-pack: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}

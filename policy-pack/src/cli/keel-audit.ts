#!/usr/bin/env node
/**
 * keel-audit: the audit command as the package's bin (same arguments as `audit`; the bin file itself is
 * launcher/keel-audit.js, which calls main). It runs the one-file bundle of
 * the command (bin/keel-audit/bundle.js, built by scripts/bundle-audit.js) with V8's code cache made at build
 * time, so a one-file audit costs little more than Node.js's own start-up: no module resolution, no compiling.
 * Without a matching cache (another Node.js version) it compiles the bundle; without a bundle (only `tsc` ran)
 * it loads the compiled modules.
 */
import * as fs from "fs";
import * as path from "path";
import * as vm from "vm";

export const BUNDLE_DIR = path.resolve(__dirname, "..", "..", "keel-audit");
export const BUNDLE = path.join(BUNDLE_DIR, "bundle.js");
export const CACHE = path.join(BUNDLE_DIR, "bundle.cache");

/** Set by the build to write the cache after a run, when the functions that run have been compiled. */
export const WRITE_CACHE_ENV = "KEEL_AUDIT_WRITE_CACHE";

type CommonJsWrapper = (
  exports: object,
  require: NodeRequire,
  module: object,
  filename: string,
  dirname: string,
) => void;

/** The cache file is the bundle's first line (`// keel-audit <sha-256 of the rest>`), a newline, then V8's data. */
function readCache(id: string): Buffer | undefined {
  try {
    const data = fs.readFileSync(CACHE);
    return data.subarray(0, id.length + 1).toString() === id + "\n"
      ? data.subarray(id.length + 1)
      : undefined;
  } catch {
    return undefined;
  }
}

function runBundle(source: string): void {
  const id = source.slice(0, source.indexOf("\n"));
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: BUNDLE,
    cachedData: readCache(id),
  });
  if (process.env[WRITE_CACHE_ENV] === "1") {
    process.once("exit", () =>
      fs.writeFileSync(CACHE, Buffer.concat([Buffer.from(id + "\n"), script.createCachedData()])),
    );
  }
  // A module of its own, so that the bundled audit.ts does not take itself for the main module and run twice.
  const bundleModule = { exports: {} };
  (script.runInThisContext() as CommonJsWrapper)(
    bundleModule.exports,
    require,
    bundleModule,
    BUNDLE,
    BUNDLE_DIR,
  );
}

function readBundle(): string | undefined {
  try {
    return fs.readFileSync(BUNDLE, "utf8");
  } catch {
    return undefined;
  }
}

/** Runs the audit: the bundle when built, else the compiled modules. */
export function main(): void {
  const source = readBundle();
  if (source === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only without the bundle, after the start-up check
    require("./audit-main");
  } else {
    runBundle(source);
  }
}

if (require.main === module) main();

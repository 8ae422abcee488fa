// Pushes the images a bundle carries into the site registry with crane (no container engine), skipping
// those the registry already serves at the bundle's digest, verifying each push by digest, and checking
// the images the bundle left out are there. Runs at the site: Node builtins only.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  LeftOutImage,
  formatBytes,
  imagesDir,
  pushTarget,
  readBundleImages,
  singleImageLayout,
} from "./image-layout";

export interface PushOptions {
  crane: string;
  /** Plain HTTP to the registry (crane --insecure); loopback registries are plain HTTP anyway. */
  insecure: boolean;
  say: (line: string) => void;
}

export interface PushResult {
  pushed: string[];
  skipped: string[];
  /** Left out of the bundle, and not in the registry at the recorded digest. */
  missing: string[];
  failed: string[];
  /** Everything the registry now serves at the bundle's digests (the site's record for the next bundle). */
  held: LeftOutImage[];
}

function crane(o: PushOptions, args: string[]) {
  return spawnSync(o.crane, [...(o.insecure ? ["--insecure"] : []), ...args], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** The digest the registry serves for a reference, or undefined when it has none (or cannot be asked). */
export function registryDigest(o: PushOptions, reference: string): string | undefined {
  const r = crane(o, ["digest", reference]);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const lastLine = (s: string) => s.trim().split("\n").pop() ?? "";

export function pushImages(bundleDir: string, o: PushOptions): PushResult {
  const doc = readBundleImages(bundleDir);
  if (!doc) throw new Error(`${bundleDir} carries no images (${imagesDir}/ is missing)`);
  const layout = path.join(bundleDir, imagesDir);
  const res: PushResult = { pushed: [], skipped: [], missing: [], failed: [], held: [] };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "keel-push-"));
  try {
    doc.images.forEach((img, i) => {
      const target = pushTarget(img.reference);
      const prefix = `  (${i + 1}/${doc.images.length}) ${img.reference}`;
      if (registryDigest(o, target) === img.digest) {
        res.skipped.push(img.reference);
        res.held.push({ reference: img.reference, digest: img.digest });
        o.say(`${prefix}: already there`);
        return;
      }
      const started = Date.now();
      const r = crane(o, ["push", singleImageLayout(layout, img.digest, path.join(tmp, String(i))), target]);
      const got = r.status === 0 ? registryDigest(o, target) : undefined;
      if (r.status !== 0 || got !== img.digest) {
        const why =
          r.status !== 0
            ? lastLine(`${r.stderr}`)
            : `the registry serves ${got ?? "nothing"}, not ${img.digest}`;
        res.failed.push(`${img.reference}: ${why}`);
        o.say(`${prefix}: FAILED: ${why}`);
        return;
      }
      res.pushed.push(img.reference);
      res.held.push({ reference: img.reference, digest: img.digest });
      o.say(
        `${prefix}: pushed ${formatBytes(img.bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s, digest verified`,
      );
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  for (const left of doc.leftOut) {
    if (registryDigest(o, pushTarget(left.reference)) === left.digest) res.held.push(left);
    else res.missing.push(`${left.reference} (${left.digest})`);
  }
  return res;
}

// `npm run bundle -- --images`: copies the stack's images into one OCI image layout in the bundle (images/)
// with crane, by digest, verifying each blob; images the site's registry already holds at the same digest
// (the record its last deploy wrote) are left out and named.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { sha256File } from "./site/checksums";
import { rewriteRegistry, splitReference } from "./site/image-reference";
import {
  BundleImages,
  CarriedImage,
  LeftOutImage,
  blobPath,
  digestRe,
  formatBytes,
  imageBytes,
  imagesFile,
  layoutIndex,
} from "./site/image-layout";
import { BundleError } from "./stack-file";

export interface ImageToCopy {
  /** As the site pulls it. */
  reference: string;
  /** Where to copy it from: its public source, or the same path in the mirror given with --image-mirror. */
  source: string;
}

/** Reads images-mirror.txt (`<public source> <site reference>` lines); `mirror` replaces the source host. */
export function imagesToCopy(mirrorPairsText: string, mirror?: string): ImageToCopy[] {
  return mirrorPairsText
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [source, reference] = line.split(" ");
      return { reference, source: mirror ? rewriteRegistry(source, mirror) : source };
    });
}

/** Builds (once per version, into the cache) the crane the builder uses and the bundle carries. */
export function installCrane(repo: string): string {
  const r = spawnSync("bash", [path.join(repo, "scripts", "registry", "install.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (r.status !== 0)
    throw new BundleError("scripts/registry/install.sh failed: crane is needed for --images");
  return r.stdout.trim().split("\n").pop()!;
}

function crane(bin: string, args: string[], what: string): string {
  const r = spawnSync(bin, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    throw new BundleError(`${what} failed (crane ${args.join(" ")}):\n${`${r.stderr}`.trim().slice(-2000)}`);
  }
  return r.stdout.trim();
}

/** The digest to copy: the one the reference pins, else the one the source serves for its tag now. */
export function sourceDigest(bin: string, source: string): string {
  const { digest } = splitReference(source);
  if (digest) return digest;
  const d = crane(bin, ["digest", source], `resolving ${source}`);
  if (!digestRe.test(d)) throw new BundleError(`crane digest ${source} printed ${JSON.stringify(d)}`);
  return d;
}

/** Every blob of the layout hashes to its name; throws naming those that do not. */
export function verifyLayoutBlobs(layout: string): number {
  const dir = path.join(layout, "blobs", "sha256");
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const bad = names.filter((n) => sha256File(path.join(dir, n)) !== n);
  if (bad.length > 0) throw new BundleError(`blobs that do not match their digest: ${bad.join(", ")}`);
  return names.length;
}

export interface CopyOptions {
  crane: string;
  layout: string;
  /** What the site's registry holds (reference -> digest), from --site-images. */
  siteHas: Map<string, string>;
  say: (line: string) => void;
}

function copyOne(o: CopyOptions, item: ImageToCopy, digest: string): CarriedImage {
  const { name } = splitReference(item.source);
  if (!layoutIndex(o.layout).some((d) => d.digest === digest)) {
    crane(o.crane, ["pull", "--format=oci", `${name}@${digest}`, o.layout], `copying ${item.source}`);
  }
  const d = layoutIndex(o.layout).find((m) => m.digest === digest);
  if (!d) throw new BundleError(`${item.source}: the layout has no ${digest} after the copy`);
  return { ...item, digest, mediaType: d.mediaType, bytes: imageBytes(o.layout, d) };
}

/** Copies every image (or leaves it out) and writes images/images.json; returns what it wrote. */
export function copyImages(o: CopyOptions, items: ImageToCopy[]): BundleImages {
  fs.mkdirSync(o.layout, { recursive: true });
  const images: CarriedImage[] = [];
  const leftOut: LeftOutImage[] = [];
  items.forEach((item, i) => {
    const started = Date.now();
    const digest = sourceDigest(o.crane, item.source);
    const prefix = `  (${i + 1}/${items.length}) ${item.source}`;
    if (o.siteHas.get(item.reference) === digest) {
      leftOut.push({ reference: item.reference, digest });
      o.say(`${prefix}: left out (the site holds ${digest.slice(0, 19)})`);
      return;
    }
    const c = copyOne(o, item, digest);
    images.push(c);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    o.say(`${prefix}: ${formatBytes(c.bytes)} in ${secs} s (${digest.slice(0, 19)})`);
  });
  const blobs = verifyLayoutBlobs(o.layout);
  for (const c of images) {
    if (!fs.existsSync(blobPath(o.layout, c.digest)))
      throw new BundleError(`${c.reference}: manifest missing`);
  }
  const doc: BundleImages = { format: 1, images, leftOut };
  fs.writeFileSync(path.join(o.layout, imagesFile), JSON.stringify(doc, null, 2) + "\n");
  o.say(`  ${images.length} images copied, ${leftOut.length} left out; ${blobs} blobs, each verified`);
  return doc;
}

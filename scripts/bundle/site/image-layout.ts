// The images a bundle carries: one OCI image layout under images/ (blobs shared between images) and
// images/images.json naming each image's site reference and digest, and the images left out because the
// site's registry already held them. Runs at the site too: Node builtins only.
import * as fs from "fs";
import * as path from "path";
import { splitReference } from "./image-reference";

export const imagesDir = "images";
export const imagesFile = "images.json";

/** An image in the bundle's layout. */
export interface CarriedImage {
  /** As the site pulls it (images.txt). */
  reference: string;
  /** Where the builder copied it from. */
  source: string;
  /** The manifest (or index) digest: the layout's index.json names it, the site registry must serve it. */
  digest: string;
  mediaType: string;
  /** Bytes of its manifest(s), configs and layers. */
  bytes: number;
}

/** An image the bundle leaves out: the site's last deploy recorded its registry holds it at this digest. */
export interface LeftOutImage {
  reference: string;
  digest: string;
}

export interface BundleImages {
  format: 1;
  images: CarriedImage[];
  leftOut: LeftOutImage[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** A size for progress lines: KiB below a MiB. */
export function formatBytes(n: number): string {
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export const digestRe = /^sha256:[a-f0-9]{64}$/;

export function readBundleImages(bundleDir: string): BundleImages | undefined {
  const file = path.join(bundleDir, imagesDir, imagesFile);
  if (!fs.existsSync(file)) return undefined;
  const doc = JSON.parse(fs.readFileSync(file, "utf8")) as BundleImages;
  if (doc.format !== 1 || !Array.isArray(doc.images) || !Array.isArray(doc.leftOut)) {
    throw new Error(`${imagesDir}/${imagesFile}: not a format 1 image list`);
  }
  for (const i of [...doc.images, ...doc.leftOut]) {
    if (!digestRe.test(i.digest)) throw new Error(`${imagesDir}/${imagesFile}: ${i.reference}: bad digest`);
  }
  return doc;
}

/** The reference to push to and check: the tag (a digest-pinned reference keeps its tag, loses its digest). */
export function pushTarget(reference: string): string {
  const { name, tag } = splitReference(reference);
  return `${name}:${tag ?? "latest"}`;
}

/** `<reference> <digest>` lines: what a site registry holds (deploy.sh writes it; the builder reads it). */
export function formatSiteRecord(images: LeftOutImage[]): string {
  return [...images]
    .sort((a, b) => (a.reference < b.reference ? -1 : 1))
    .map((i) => `${i.reference} ${i.digest}\n`)
    .join("");
}

export function parseSiteRecord(text: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split("\n").forEach((line, n) => {
    if (line.trim() === "" || line.startsWith("#")) return;
    const [reference, digest, extra] = line.trim().split(/\s+/);
    if (!digest || extra !== undefined || !digestRe.test(digest)) {
      throw new Error(`line ${n + 1}: not "<image reference> sha256:<digest>": ${JSON.stringify(line)}`);
    }
    out.set(reference, digest);
  });
  return out;
}

/** The layout's index.json entries; none before the first image is copied in. */
export function layoutIndex(layout: string): Descriptor[] {
  if (!fs.existsSync(path.join(layout, "index.json"))) return [];
  return (JSON.parse(fs.readFileSync(path.join(layout, "index.json"), "utf8")).manifests ??
    []) as Descriptor[];
}

export function blobPath(layout: string, digest: string): string {
  if (!digestRe.test(digest)) throw new Error(`not a sha256 digest: ${digest}`);
  return path.join(layout, "blobs", "sha256", digest.slice("sha256:".length));
}

/** Bytes of an image or index and everything it references, read from the layout's blobs. */
export function imageBytes(layout: string, d: Pick<Descriptor, "digest" | "size">): number {
  const doc = JSON.parse(fs.readFileSync(blobPath(layout, d.digest), "utf8"));
  const children: Descriptor[] = doc.manifests ?? [];
  const leaves: Descriptor[] = [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])];
  return (
    d.size +
    leaves.reduce((n, l) => n + l.size, 0) +
    children.reduce((n, c) => n + (fs.existsSync(blobPath(layout, c.digest)) ? imageBytes(layout, c) : 0), 0)
  );
}

/**
 * A layout holding only `digest` (what `crane push <layout>` takes): its own oci-layout and index.json, and
 * the shared blobs folder linked in. Written under `dir`, which the caller removes.
 */
export function singleImageLayout(layout: string, digest: string, dir: string): string {
  const d = layoutIndex(layout).find((m) => m.digest === digest);
  if (!d) throw new Error(`${digest} is not in the bundle's image layout`);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(layout, "oci-layout"), path.join(dir, "oci-layout"));
  const { annotations, ...plain } = d; // eslint-disable-line @typescript-eslint/no-unused-vars
  fs.writeFileSync(
    path.join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [plain],
    }),
  );
  fs.symlinkSync(path.resolve(layout, "blobs"), path.join(dir, "blobs"));
  return dir;
}

// The bundle's optional parts, called from build.ts: the images (--images), the bill of materials and the
// signature (--sign-key).
import { spawnSync } from "child_process";
import { KeyObject } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { BundleArgs } from "./args";
import { copyFile } from "./files";
import { copyImages, imagesToCopy, installCrane } from "./image-copy";
import { installedPackages } from "./node-modules";
import { SbomImage, SbomPackage, cycloneDx } from "./sbom";
import { signText } from "./sign";
import { signatureName } from "./site/checksums";
import { BundleImages, imagesDir, parseSiteRecord } from "./site/image-layout";
import { BundleError } from "./stack-file";

export interface ImagesResult {
  doc: BundleImages;
  crane: SbomPackage;
}

/** What --site-images names: reference -> digest; empty without it. */
export function readSiteImages(file?: string): Map<string, string> {
  if (!file) return new Map();
  if (!fs.existsSync(file)) throw new BundleError(`--site-images ${file} not found`);
  try {
    return parseSiteRecord(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new BundleError(`--site-images ${file}: ${(e as Error).message}`);
  }
}

/** Copies the images into <stage>/images and crane into the bundle's toolchain (deploy.sh pushes with it). */
export function stageImages(
  repo: string,
  stage: string,
  args: BundleArgs,
  say: (l: string) => void,
): ImagesResult {
  const crane = installCrane(repo);
  copyFile(crane, path.join(stage, "toolchain", "bin", "crane"));
  const version = spawnSync(crane, ["version"], { encoding: "utf8" }).stdout.trim();
  say(`  crane ${version}; from ${args.imageMirror ?? "the images' public registries"}`);
  const items = imagesToCopy(
    fs.readFileSync(path.join(stage, "images-mirror.txt"), "utf8"),
    args.imageMirror,
  );
  const siteHas = readSiteImages(args.siteImages);
  const doc = copyImages({ crane, layout: path.join(stage, imagesDir), siteHas, say }, items);
  if (doc.leftOut.length > 0) {
    say(`  left out (the site's registry holds them at these digests, per ${args.siteImages}):`);
    for (const l of doc.leftOut) say(`    ${l.reference} ${l.digest}`);
  }
  return { doc, crane: { name: "crane", version } };
}

export function sbomImages(imagesTxt: string[], doc?: BundleImages): SbomImage[] {
  if (!doc) return imagesTxt.map((reference) => ({ reference }));
  return [
    ...doc.images.map((i) => ({ reference: i.reference, digest: i.digest, carried: true })),
    ...doc.leftOut.map((i) => ({ reference: i.reference, digest: i.digest, carried: false })),
  ].sort((a, b) => (a.reference < b.reference ? -1 : 1));
}

export function writeSbom(
  stage: string,
  base: { project: string; keel: string; createdAt: string },
  parts: { plugins: SbomPackage[]; tools: SbomPackage[]; images: SbomImage[] },
): number {
  const bom = cycloneDx({
    ...base,
    ...parts,
    program: installedPackages(path.join(stage, "project")),
    policyPack: installedPackages(path.join(stage, "policy-pack")),
  });
  fs.writeFileSync(path.join(stage, "sbom.cdx.json"), JSON.stringify(bom, null, 2) + "\n");
  return (bom.components as unknown[]).length;
}

export function writeSignature(stage: string, key: KeyObject, manifestText: string): void {
  fs.writeFileSync(path.join(stage, signatureName), signText(key, manifestText));
}

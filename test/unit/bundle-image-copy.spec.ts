import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { copyImages, imagesToCopy, installCrane, verifyLayoutBlobs } from "../../scripts/bundle/image-copy";
import { LocalRegistry, buildTestImage, startRegistry } from "../../scripts/bundle/local-registry";
import { imagesDir, layoutIndex, readBundleImages } from "../../scripts/bundle/site/image-layout";
import { PushOptions, pushImages, registryDigest } from "../../scripts/bundle/site/push-images";
import { repoRoot } from "./fixtures";

// The images a bundle carries, with the real crane (built from the Go module proxy by
// scripts/registry/install.sh) against real registries on 127.0.0.1: a source and a site.
describe("bundle: images copied into the bundle and pushed at the site (crane)", function () {
  this.timeout(10 * 60 * 1000);
  let crane: string;
  let source: LocalRegistry;
  let site: LocalRegistry;
  let work: string;
  const digests: Record<string, string> = {};
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);

  before(async () => {
    crane = installCrane(repoRoot);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "keel-image-copy-"));
    source = await startRegistry(crane);
    site = await startRegistry(crane);
    for (const p of ["library/postgres:17.6-bookworm", "library/redis:8.2.1-bookworm"]) {
      digests[p] = buildTestImage(crane, `${source.address}/${p}`, `test image ${p}\n`);
    }
  });

  after(() => {
    source?.stop();
    site?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const pairs = () =>
    ["library/postgres:17.6-bookworm", "library/redis:8.2.1-bookworm"]
      .map((p) => `docker.io/${p} ${site.address}/mirror/${p}\n`)
      .join("");

  function bundleWith(name: string, siteHas = new Map<string, string>()) {
    const bundle = path.join(work, name);
    const items = imagesToCopy(pairs(), source.address);
    const doc = copyImages({ crane, layout: path.join(bundle, imagesDir), siteHas, say: log }, items);
    return { bundle, doc };
  }

  const opts = (): PushOptions => ({ crane, insecure: false, say: log });

  it("reads the mirror pairs, taking the images from the mirror under the same paths", () => {
    expect(
      imagesToCopy("docker.io/library/redis:8 reg.site:5000/m/library/redis:8\n", "127.0.0.1:5/x"),
    ).to.deep.equal([
      { reference: "reg.site:5000/m/library/redis:8", source: "127.0.0.1:5/x/library/redis:8" },
    ]);
  });

  it("copies each image by digest into one OCI layout, verifies the blobs, records the digests", () => {
    const { bundle, doc } = bundleWith("b1");
    expect(doc.leftOut).to.deep.equal([]);
    expect(doc.images.map((i) => i.digest)).to.deep.equal(Object.values(digests));
    expect(layoutIndex(path.join(bundle, imagesDir)).map((d) => d.digest)).to.deep.equal(
      Object.values(digests),
    );
    expect(readBundleImages(bundle)).to.deep.equal(doc);
    for (const i of doc.images) expect(i.bytes).to.be.greaterThan(100);
  });

  it("refuses a layout whose blob was changed", () => {
    const { bundle } = bundleWith("b-tampered");
    const blobs = path.join(bundle, imagesDir, "blobs", "sha256");
    const victim = path.join(blobs, fs.readdirSync(blobs)[0]);
    fs.appendFileSync(victim, "x");
    expect(() => verifyLayoutBlobs(path.join(bundle, imagesDir))).to.throw(/do not match their digest/);
  });

  it("pushes into the site registry, verifies by digest, then skips what is already there", () => {
    const { bundle, doc } = bundleWith("b2");
    const first = pushImages(bundle, opts());
    expect(first.failed).to.deep.equal([]);
    expect(first.pushed).to.deep.equal(doc.images.map((i) => i.reference));
    for (const i of doc.images) expect(registryDigest(opts(), i.reference)).to.equal(i.digest);
    const again = pushImages(bundle, opts());
    expect(again.pushed).to.deep.equal([]);
    expect(again.skipped).to.have.length(2);
    expect(lines.some((l) => /\(1\/2\) .*postgres.*: pushed .* digest verified/.test(l))).to.equal(true);
  });

  it("copies a multi-platform index by its own digest, with every image it lists, and pushes it whole", () => {
    const parts = ["a", "b"].map((p) => {
      const ref = `${source.address}/parts/${p}:1.0`;
      return `${ref.split(":1.0")[0]}@${buildTestImage(crane, ref, `platform ${p}\n`)}`;
    });
    const index = `${source.address}/library/multi:1.0`;
    const made = spawnSync(crane, ["index", "append", "-m", parts[0], "-m", parts[1], "-t", index], {
      encoding: "utf8",
    });
    expect(made.status, made.stderr).to.equal(0);
    const indexDigest = spawnSync(crane, ["digest", index], { encoding: "utf8" }).stdout.trim();
    const bundle = path.join(work, "b-index");
    const items = imagesToCopy(
      `docker.io/library/multi:1.0 ${site.address}/m/library/multi:1.0\n`,
      source.address,
    );
    const doc = copyImages(
      { crane, layout: path.join(bundle, imagesDir), siteHas: new Map(), say: log },
      items,
    );
    expect(doc.images[0].digest).to.equal(indexDigest);
    expect(doc.images[0].mediaType).to.match(/index|manifest\.list/);
    const single = bundleWith("b-single").doc.images[0].bytes;
    expect(doc.images[0].bytes, "the index and both images").to.be.greaterThan(2 * single * 0.8);
    expect(pushImages(bundle, opts()).failed).to.deep.equal([]);
    expect(registryDigest(opts(), `${site.address}/m/library/multi:1.0`)).to.equal(indexDigest);
    for (const p of parts) {
      const child = `${site.address}/m/library/multi@${p.split("@")[1]}`;
      expect(registryDigest(opts(), child), "each platform's image").to.equal(p.split("@")[1]);
    }
  });

  it("leaves out what the site holds, and the site refuses a left-out image its registry lacks", () => {
    const redis = `${site.address}/mirror/library/redis:8.2.1-bookworm`;
    const held = new Map([[redis, digests["library/redis:8.2.1-bookworm"]]]);
    const { bundle, doc } = bundleWith("b3", held);
    expect(doc.images.map((i) => i.reference)).to.deep.equal([
      `${site.address}/mirror/library/postgres:17.6-bookworm`,
    ]);
    expect(doc.leftOut).to.deep.equal([
      { reference: redis, digest: digests["library/redis:8.2.1-bookworm"] },
    ]);
    expect(pushImages(bundle, opts()).missing).to.deep.equal([]);
    // The site's record was wrong (the registry was reset, say): the left-out image is named, nothing passes.
    const other = `${site.address}/elsewhere/library/redis:8.2.1-bookworm`;
    const doc2 = { ...doc, leftOut: [{ reference: other, digest: doc.leftOut[0].digest }] };
    fs.writeFileSync(path.join(bundle, imagesDir, "images.json"), JSON.stringify(doc2));
    expect(pushImages(bundle, opts()).missing).to.deep.equal([`${other} (${doc.leftOut[0].digest})`]);
  });
});

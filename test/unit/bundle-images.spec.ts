import { expect } from "chai";
import { parse } from "yaml";
import * as fs from "fs";
import * as path from "path";
import { imageCatalog } from "@keel/core";
import { StackConfig, parseStackConfig, platformNames, rawFromAllConfig } from "../../program/config";
import { deploy, stackImages } from "../../program/deploy";
import {
  checkImages,
  imagesIn,
  imagesInPreview,
  imagesKeptFromState,
  mergeImageUses,
  mirrorPairs,
} from "../../scripts/bundle/images";
import {
  checkPresence,
  formatImageList,
  parseImageList,
  splitReference,
} from "../../scripts/bundle/site/registry";
import { installMocks, settle } from "./harness";
import { repoRoot } from "./fixtures";

/** The `keel:*` config of a stack file as the program sees it. */
function configOf(file: string) {
  const doc = parse(fs.readFileSync(path.join(repoRoot, file), "utf8")) as {
    config: Record<string, unknown>;
  };
  return parseStackConfig(
    rawFromAllConfig(
      Object.fromEntries(
        Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
      ),
    ),
  );
}

describe("bundle: image list", () => {
  it("finds images in pod specs, templates, job templates, init containers and custom resources", () => {
    const deployment = {
      spec: { template: { spec: { containers: [{ image: "r/a:1" }, { image: "r/b:1" }] } } },
    };
    const cronJob = {
      spec: {
        jobTemplate: {
          spec: { template: { spec: { initContainers: [{ image: "r/c:1" }], containers: [] } } },
        },
      },
    };
    const custom = { spec: { dataplane: { containers: [{ name: "x", image: "r/d:1" }] } } };
    expect(imagesIn([deployment, cronJob, custom, deployment]).sort()).to.deep.equal([
      "r/a:1",
      "r/b:1",
      "r/c:1",
      "r/d:1",
    ]);
    expect(imagesIn({ spec: { image: "not-a-container" } })).to.deep.equal([]);
  });

  it("reads a preview: creates, updates and unchanged resources count, deletions do not", () => {
    const step = (op: string, image: string) => ({
      op,
      urn: `urn:${op}`,
      newState: { inputs: { spec: { template: { spec: { containers: [{ image }] } } } } },
    });
    const byImage = imagesInPreview({
      steps: [
        step("create", "r/new:1"),
        step("same", "r/kept:1"),
        step("update", "r/kept:1"),
        step("delete", "r/gone:1"),
      ],
    });
    expect([...byImage.keys()].sort()).to.deep.equal(["r/kept:1", "r/new:1"]);
    expect(byImage.get("r/kept:1")).to.deep.equal(["urn:same", "urn:update"]);
  });

  it("takes the images of an update's unchanged resources from the state (the preview lists no step for them)", () => {
    const pod = (image: string) => ({ spec: { template: { spec: { containers: [{ image }] } } } });
    const state = {
      deployment: {
        resources: [
          { urn: "urn:unchanged", inputs: pod("r/kept:1") },
          { urn: "urn:updated", inputs: pod("r/old:1") },
          { urn: "urn:deleted", inputs: pod("r/gone:1") },
        ],
      },
    };
    const preview = {
      steps: [
        { op: "update", urn: "urn:updated", newState: { inputs: pod("r/new:2") } },
        { op: "delete", urn: "urn:deleted" },
      ],
    };
    const kept = imagesKeptFromState(state, preview);
    expect([...kept.keys()]).to.deep.equal(["r/kept:1"]);
    const all = mergeImageUses(imagesInPreview(preview), kept);
    expect([...all.keys()].sort()).to.deep.equal(["r/kept:1", "r/new:2"]);
  });

  it("fails what a mirror built from the list would miss, or what escaped the registry override", () => {
    const check = checkImages(
      ["reg.site/m/a:1", "reg.site/m/b:1", "reg.site/m/unused:1"],
      ["reg.site/m/a:1", "reg.site/m/b:1", "reg.site/m/sneaked:2", "docker.io/library/busybox:1.37.0"],
      "reg.site/m",
    );
    expect(check.undeclared).to.deep.equal(["docker.io/library/busybox:1.37.0", "reg.site/m/sneaked:2"]);
    expect(check.outsideRegistry).to.deep.equal(["docker.io/library/busybox:1.37.0"]);
    expect(check.unused).to.deep.equal(["reg.site/m/unused:1"]);
    expect(checkImages(["a/b:1"], ["a/b:1"], undefined)).to.deep.equal({
      undeclared: [],
      outsideRegistry: [],
      unused: [],
    });
  });

  it("the program's images output covers every image the air-gapped example stack renders, all under its registry", async () => {
    const cfg = configOf("Pulumi.airgap.yaml");
    await installMocks();
    deploy(cfg);
    const rendered = imagesIn(
      (await settle()).filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.inputs),
    );
    expect(rendered.length).to.be.greaterThan(20);
    const check = checkImages(stackImages(cfg), rendered, cfg.imageRegistry);
    expect(check.undeclared).to.deep.equal([]);
    expect(check.outsideRegistry).to.deep.equal([]);
  });

  it("lists, per platform, every image it renders, so a stack of some platforms mirrors only theirs", async function () {
    this.timeout(120000);
    const prod = configOf("Pulumi.prod.yaml");
    for (const stack of [
      configOf("Pulumi.airgap.yaml"),
      prod,
      { ...prod, osint: { objectStore: "versitygw" as const } },
    ]) {
      for (const platform of platformNames) {
        const cfg: StackConfig = { ...stack, platforms: [platform] };
        await installMocks();
        deploy(cfg);
        const rendered = imagesIn(
          (await settle()).filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.inputs),
        );
        expect(rendered.length, platform).to.be.greaterThan(0);
        expect(checkImages(stackImages(cfg), rendered, cfg.imageRegistry).undeclared, platform).to.deep.equal(
          [],
        );
      }
    }
    const media = stackImages({ ...prod, platforms: ["media"] });
    expect(media).to.have.length(7);
    expect(stackImages(prod)).to.have.length(Object.keys(imageCatalog).length);
  });

  it("pairs each image with its public source for mirroring tools", () => {
    const cfg = configOf("Pulumi.airgap.yaml");
    const declared = stackImages(cfg);
    const sources = stackImages({ ...cfg, imageRegistry: undefined });
    const rendered = declared.filter((i) => /\/library\/postgres:|browser-pool/.test(i));
    expect(mirrorPairs(declared, sources, rendered)).to.equal(
      "docker.io/library/postgres:17.6-bookworm registry.site.local:5000/mirror/library/postgres:17.6-bookworm\n" +
        "ghcr.io/santaclaude/browser-pool-service:2.0.0 registry.site.local:5000/mirror/santaclaude/browser-pool-service:2.0.0\n",
    );
    expect(() => mirrorPairs(declared, sources, ["reg/unknown:1"])).to.throw(
      /not in the program's images list/,
    );
  });

  it("parses and writes image lists: one per line, comments and blanks ignored, sorted without duplicates", () => {
    expect(parseImageList("# mirror\nr/b:1\n\n  r/a:1  # pinned\nr/b:1\n")).to.deep.equal(["r/b:1", "r/a:1"]);
    expect(formatImageList(["r/b:1", "r/a:1", "r/b:1"])).to.equal("r/a:1\nr/b:1\n");
    expect(() => parseImageList("r/a:1 r/b:1\n")).to.throw(/not an image reference/);
  });

  it("checks presence in a registry catalog; a digest needs name@digest, not just the tag", () => {
    const digest = `sha256:${"0".repeat(64)}`;
    expect(splitReference(`reg:5000/m/a:1@${digest}`)).to.deep.equal({
      name: "reg:5000/m/a",
      tag: "1",
      digest,
    });
    expect(splitReference("reg:5000/m/a")).to.deep.equal({
      name: "reg:5000/m/a",
      tag: undefined,
      digest: undefined,
    });
    const result = checkPresence(
      ["reg:5000/m/a:1", "reg:5000/m/b:2", `reg:5000/m/c:3@${digest}`, `reg:5000/m/d:4@${digest}`],
      ["reg:5000/m/a:1", "reg:5000/m/b:3", `reg:5000/m/c@${digest}`, "reg:5000/m/d:4"],
    );
    expect(result.present).to.deep.equal(["reg:5000/m/a:1", `reg:5000/m/c:3@${digest}`]);
    expect(result.missing).to.deep.equal(["reg:5000/m/b:2", `reg:5000/m/d:4@${digest}`]);
  });
});

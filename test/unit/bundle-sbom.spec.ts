import { expect } from "chai";
import { cycloneDx, imagePurl, npmPurl } from "../../scripts/bundle/sbom";
import { sbomImages } from "../../scripts/bundle/build-extras";

// The bundle's bill of materials (sbom.cdx.json), CycloneDX 1.5 JSON.
describe("bundle: bill of materials (CycloneDX)", () => {
  const digest = `sha256:${"ab".repeat(32)}`;
  const input = {
    project: "keel",
    keel: "abc123",
    createdAt: "2026-12-06T14:00:00.000Z",
    program: [
      { name: "@pulumi/pulumi", version: "3.199.0" },
      { name: "yaml", version: "2.8.1" },
      { name: "yaml", version: "2.8.1" }, // the same package nested twice in node_modules
    ],
    policyPack: [{ name: "@pulumi/policy", version: "1.20.0" }],
    plugins: [{ name: "kubernetes", version: "4.25.0" }],
    tools: [
      { name: "pulumi", version: "v3.259.0" },
      { name: "crane", version: "v0.22.1" },
    ],
    images: sbomImages([], {
      format: 1,
      images: [
        { reference: "reg:5000/m/library/redis:8.2.1", source: "s", digest, mediaType: "m", bytes: 1 },
      ],
      leftOut: [{ reference: "reg:5000/m/library/postgres:17.6", digest }],
    }),
  };

  it("names packages and images with package URLs", () => {
    expect(npmPurl({ name: "@pulumi/pulumi", version: "3.199.0" })).to.equal(
      "pkg:npm/%40pulumi/pulumi@3.199.0",
    );
    expect(npmPurl({ name: "yaml", version: "2.8.1" })).to.equal("pkg:npm/yaml@2.8.1");
    expect(imagePurl({ reference: "reg:5000/m/library/redis:8.2.1", digest })).to.equal(
      `pkg:oci/redis@sha256%3A${"ab".repeat(32)}?repository_url=reg:5000/m/library/redis&tag=8.2.1`,
    );
  });

  it("lists the program's and the pack's npm packages, plugins, CLIs and images with digests", () => {
    const bom = cycloneDx(input) as any;
    expect(bom.bomFormat).to.equal("CycloneDX");
    expect(bom.specVersion).to.equal("1.5");
    expect(bom.serialNumber).to.match(/^urn:uuid:[0-9a-f-]{36}$/);
    const refs = bom.components.map((c: any) => c["bom-ref"]);
    expect(new Set(refs).size, "bom-refs are unique").to.equal(refs.length);
    const byPart = (p: string) =>
      bom.components.filter((c: any) =>
        c.properties.some((x: any) => x.name === "keel:part" && x.value === p),
      );
    expect(byPart("program").map((c: any) => c.purl)).to.deep.equal([
      "pkg:npm/%40pulumi/pulumi@3.199.0",
      "pkg:npm/yaml@2.8.1",
    ]);
    expect(byPart("policy-pack").map((c: any) => c.name)).to.deep.equal(["@pulumi/policy"]);
    expect(byPart("plugin").map((c: any) => `${c.name}@${c.version}`)).to.deep.equal([
      "pulumi-resource-kubernetes@4.25.0",
    ]);
    expect(byPart("cli").map((c: any) => c.name)).to.deep.equal(["crane", "pulumi"]);
    const images = byPart("image");
    expect(images.map((c: any) => [c.type, c.name, c.version, c.hashes[0].content])).to.deep.equal([
      ["container", "reg:5000/m/library/postgres", "17.6", "ab".repeat(32)],
      ["container", "reg:5000/m/library/redis", "8.2.1", "ab".repeat(32)],
    ]);
    expect(
      images.map((c: any) => c.properties.find((p: any) => p.name === "keel:carried").value),
    ).to.deep.equal(["false", "true"]);
  });

  it("lists the images without digests when the bundle carries none", () => {
    const bom = cycloneDx({ ...input, images: sbomImages(["reg/m/a:1"]) }) as any;
    const image = bom.components.find((c: any) => c.type === "container");
    expect(image.purl).to.equal("pkg:oci/a?repository_url=reg/m/a&tag=1");
    expect(image.hashes).to.equal(undefined);
  });
});

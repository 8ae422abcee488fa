import { imageCatalog } from "@keel/core";
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "./fixtures";

/** `KEY=value` lines of scripts/conformance/versions.env. */
function conformanceVersions(): Record<string, string> {
  const text = fs.readFileSync(path.join(repoRoot, "scripts/conformance/versions.env"), "utf8");
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]),
  );
}

/** Prometheus 3.x is published to the Go module proxy as v0.3xx.y (3.7.3 → v0.307.3). */
function prometheusModuleVersion(tag: string): string {
  const [major, minor, patch] = tag.replace(/^v/, "").split(".").map(Number);
  return `v0.${major * 100 + minor}.${patch}`;
}

// Bumping an image in the catalog (docs/operations.md, "Version upgrades") must bump the program the
// conformance suite runs on the rendered config, or the suite would keep proving the old version.
describe("the catalog and the conformance suite run the same versions", () => {
  const v = conformanceVersions();
  const tag = (key: keyof typeof imageCatalog) => imageCatalog[key].tag;
  const cases: [string, string, string][] = [
    ["stunnerd", `v${tag("stunnerd").replace(/^v/, "")}`, v.STUNNERD_VERSION],
    ["livekit", tag("livekit"), v.LIVEKIT_VERSION],
    ["prometheus", prometheusModuleVersion(tag("prometheus")), v.PROMETHEUS_VERSION],
    ["alertmanager", tag("alertmanager"), v.ALERTMANAGER_VERSION],
    ["blackboxExporter", tag("blackboxExporter"), v.BLACKBOX_VERSION],
  ];
  for (const [key, fromCatalog, fromConformance] of cases) {
    it(`${key}: the catalog's ${fromCatalog} is what versions.env builds`, () => {
      expect(fromConformance, `scripts/conformance/versions.env for ${key}`).to.equal(fromCatalog);
    });
  }

  it("maps Prometheus tags to module versions as the proxy publishes them", () => {
    expect(prometheusModuleVersion("v3.7.3")).to.equal("v0.307.3");
    expect(prometheusModuleVersion("v3.10.0")).to.equal("v0.310.0");
  });
});

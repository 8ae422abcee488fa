import { annotations as coreAnnotations, parseImage as coreParseImage } from "@keel/core";
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { copies, copyText, staleCopies } from "../../scripts/contract/sync";
import { repoRoot } from "./fixtures";

describe("the contract between components, policy pack and site tools", () => {
  it("has every copy current with its source in contract/ (run `npm run contract` after editing it)", () => {
    expect(staleCopies(repoRoot)).to.deep.equal([]);
  });

  it("reports a copy that was edited by hand, and a missing one", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "keel-contract-"));
    for (const [source, targets] of Object.entries(copies)) {
      const text = fs.readFileSync(path.join(repoRoot, source), "utf8");
      fs.mkdirSync(path.dirname(path.join(root, source)), { recursive: true });
      fs.writeFileSync(path.join(root, source), text);
      for (const t of targets) {
        fs.mkdirSync(path.dirname(path.join(root, t)), { recursive: true });
        fs.writeFileSync(path.join(root, t), copyText(source, text));
      }
    }
    expect(staleCopies(root)).to.deep.equal([]);
    const edited = copies["contract/conventions.ts"][1];
    fs.appendFileSync(path.join(root, edited), "export const drift = 1;\n");
    const missing = copies["contract/image-reference.ts"][2];
    fs.rmSync(path.join(root, missing));
    expect(staleCopies(root)).to.deep.equal([edited, missing]);
  });

  it("is what the policy pack reads: the pack's annotation keys and image parser are the components'", () => {
    // The pack's compiled modules, as the engine loads them (the pack is not a dependency of the program).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pack = (m: string) => require(path.join(repoRoot, "policy-pack/bin/src", m));
    expect(pack("stack-rules/pdb-required.js").CRITICAL_ANNOTATION).to.equal(coreAnnotations.critical);
    expect(pack("core/databases.js").DATABASE_ANNOTATION).to.equal(coreAnnotations.database);
    expect(pack("core/exemptions.js").EXEMPTION_PREFIX).to.equal("exempt.keel.dev/");
    for (const ref of ["redis:7.4", "ghcr.io/a/b:1@sha256:" + "0".repeat(64), "localhost:5000/x"]) {
      expect(pack("core/image.js").parseImage(ref)).to.deep.equal(coreParseImage(ref));
    }
  });
});

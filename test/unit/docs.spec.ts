import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { configSubKeys } from "../../program/config";
import { Page, RefKind, RepoFacts, checkPage, formatFinding, refKinds } from "./docs-check";
import { readPages, repoFacts } from "./docs-repo";
import { repoRoot } from "./fixtures";

/**
 * The docs name only what exists: every `npm run` script, every `keel:` config key and every repository path
 * (in inline code or a Markdown link) of the READMEs and docs pages. How each kind is resolved is documented
 * on the functions of docs-check.ts; a failure lists every stale reference as page:line.
 */

describe("docs: every script, config key and repository path a page names exists", () => {
  const keys: RepoFacts["configKeys"] = configSubKeys();
  const pages = readPages(repoRoot);
  const results = pages.map((p) => checkPage(p, repoFacts(repoRoot, keys)));
  const findings = (kind: RefKind) =>
    results.flatMap((r) => r.findings.filter((f) => f.kind === kind).map(formatFinding));
  const total = (kind: RefKind) => results.reduce((n, r) => n + r.counts[kind], 0);

  it("reads the pages users read and finds references of every kind in them", () => {
    expect(pages.map((p) => p.file)).to.include.members([
      "README.md",
      "docs/air-gapped.md",
      "components/matrix/README.md",
      "policy-pack/README.md",
      "policy-pack/docs/coverage.md",
      "scripts/cluster/README.md",
    ]);
    for (const kind of refKinds) expect(total(kind), kind).to.be.greaterThan(0);
  });

  it("derives the config keys from program/config.ts, sub-keys included", () => {
    expect(keys.get("domain")).to.equal(null);
    expect(keys.get("tlsKey")).to.equal(null);
    expect([...keys.get("tls")!]).to.have.members(["mode", "acmeClusterIssuer"]);
    expect(keys.get("matrix")!.has("signatureMirror")).to.equal(true);
    expect(keys.get("media")!.has("libraryGi")).to.equal(true);
    expect(keys.get("images")!.has("clamav")).to.equal(true);
  });

  for (const kind of refKinds) {
    it(`names no ${kind} that does not exist`, () => {
      expect(findings(kind)).to.deep.equal([]);
    });
  }
});

describe("docs check: the checker on a small repository", () => {
  let root: string;
  let facts: RepoFacts;
  const check = (file: string, text: string) =>
    checkPage({ file, text } as Page, facts).findings.map(formatFinding);

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "keel-docs-check-"));
    const write = (rel: string, content: string) => {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), content);
    };
    write(
      "package.json",
      JSON.stringify({
        workspaces: ["components/*"],
        scripts: { build: "tsc", bench: "node b.js", "test:e2e": "mocha" },
      }),
    );
    write("components/web/package.json", JSON.stringify({ scripts: { build: "tsc -b" } }));
    write("pack/package.json", JSON.stringify({ scripts: { audit: "node a.js", test: "mocha" } }));
    write("pack/src/rule.ts", "");
    write("scripts/cluster/up.sh", "");
    write("docs/guide.md", "# The guide\n\n## Step 1: `npm ci`\n");
    write(".gitignore", "bin/\n*.log\n");
    const configKeys = new Map<string, ReadonlySet<string> | null>([
      ["domain", null],
      ["tls", new Set(["mode"])],
    ]);
    facts = repoFacts(root, configKeys);
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("reports a script missing from the package.json the command means, with page and line", () => {
    const page =
      "Build with `npm run build`.\n\n```sh\nnpm run -s test:e2e\nnpm run deploy\n```\n`npm run <name>`";
    expect(check("README.md", page)).to.deep.equal([
      'README.md:5: script deploy: no script "deploy" in package.json',
    ]);
  });

  it("reads a package's own scripts on its pages, --prefix from the root, the root's when a paragraph says so", () => {
    const page = [
      "`npm test` and `npm run -s audit`; `npm run build` is not the pack's.",
      "",
      "From the repository root, `npm run bench`.",
      "",
      "The media repository's `npm run test:e2e`.",
      "",
      "`npm --prefix pack run -s audit`, `npm --prefix pack run lint`",
    ].join("\n");
    expect(check("pack/README.md", page)).to.deep.equal([
      'pack/README.md:1: script build: no script "build" in pack/package.json',
      'pack/README.md:5: script test:e2e: no script "test:e2e" in pack/package.json',
      'pack/README.md:7: script lint: no script "lint" in pack/package.json',
    ]);
  });

  it("runs the scripts a workspace's page names from the root", () => {
    const page = "`npm run test:e2e`, `npm run build`, `npm test`";
    expect(check("components/web/README.md", page)).to.deep.equal([
      'components/web/README.md:1: script test: no script "test" in package.json',
    ]);
  });

  it("reports config keys and first sub-keys program/config.ts does not read, not type tokens", () => {
    const page =
      "`keel:domain`, `keel:tls.mode`, `keel:matrix`, `keel:tls.issuer`, `keel:domain.x`, `keel:ai:AiCore`, `keel:<key>`";
    expect(check("README.md", page)).to.deep.equal([
      "README.md:1: config keel:matrix: not a key program/config.ts reads",
      'README.md:1: config keel:tls.issuer: keel:tls has no sub-key "issuer"',
      "README.md:1: config keel:domain.x: keel:domain takes no sub-keys",
    ]);
  });

  it("reports repository paths in code that do not exist, resolved from the root, the package or the page", () => {
    const page = [
      "Run `bash scripts/cluster/up.sh` then `scripts/cluster/down.sh`; see `docs/guide.md` and `src/rule.ts`.",
      "Not paths: `bin/index.js`, `~/.cache/keel`, `$KEEL_CACHE/x`, `/tmp/a/b`, `https://x.org/a`, `@keel/core`,",
      "`scripts/*.sh`, `docs/<name>.md`, `unknown/folder.md`.",
      "",
      "```sh",
      "bash scripts/missing.sh",
      "```",
    ].join("\n");
    expect(check("pack/README.md", page)).to.deep.equal([
      "pack/README.md:1: path scripts/cluster/down.sh: not found from the root, pack/",
    ]);
  });

  it("reports Markdown links to missing files or headings, relative to the page, not URLs", () => {
    const page = [
      "# Set-up",
      "[g](../docs/guide.md#the-guide) [m](../docs/gone.md) [u](https://x.org/#x) [o](../../x.md)",
      "[a](#set-up) [b](#running-it) [c](../docs/guide.md#step-2)",
      "",
      "[ref]: ./gone/",
    ].join("\n");
    expect(check("pack/README.md", page)).to.deep.equal([
      "pack/README.md:2: link ../docs/gone.md: docs/gone.md does not exist",
      "pack/README.md:2: link ../../x.md: points outside the repository",
      "pack/README.md:3: link #running-it: pack/README.md has no heading #running-it",
      "pack/README.md:3: link ../docs/guide.md#step-2: docs/guide.md has no heading #step-2",
      "pack/README.md:5: link ./gone/: pack/gone/ does not exist",
    ]);
  });
});

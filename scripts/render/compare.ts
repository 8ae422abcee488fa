/**
 * `node bin/scripts/render/compare.js [<rev>]` (`npm run render:compare [-- <rev>]`): proves that a change
 * to the program leaves what it registers alone. Checks out <rev> (default HEAD) in a git worktree under
 * /tmp, links this tree's node_modules into it (its own @keel/* packages), builds it with tsc, dumps the dev
 * and prod stacks of both trees (full.ts) and prints a summary and the unified diff. Exit 0 when identical,
 * 1 when anything differs, 2 when it could not compare. Run it after `tsc -b` of this tree.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";

const stacks = ["dev", "prod"];

interface Entry {
  urn: string;
}

/** Per stack: counts on each side, and the URNs only one side has or whose entries differ. */
export function summarize(stack: string, before: string, after: string): { text: string; same: boolean } {
  const index = (doc: string) => new Map((parse(doc) as Entry[]).map((e) => [e.urn, JSON.stringify(e)]));
  const [a, b] = [index(before), index(after)];
  const removed = [...a.keys()].filter((u) => !b.has(u));
  const added = [...b.keys()].filter((u) => !a.has(u));
  const changed = [...a.keys()].filter((u) => b.has(u) && a.get(u) !== b.get(u));
  const same = removed.length + added.length + changed.length === 0 && before === after;
  const lines = [
    `${stack}: ${a.size} resources before, ${b.size} after: ` +
      (same ? "identical" : `${changed.length} changed, ${added.length} added, ${removed.length} removed`),
    ...changed.map((u) => `  ~ ${u}`),
    ...added.map((u) => `  + ${u}`),
    ...removed.map((u) => `  - ${u}`),
  ];
  return { text: lines.join("\n"), same };
}

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

/** node_modules for a worktree: this tree's packages, but @keel/* pointing at the worktree's own components. */
function linkNodeModules(root: string, tree: string): void {
  const from = path.join(root, "node_modules");
  const to = path.join(tree, "node_modules");
  fs.mkdirSync(path.join(to, "@keel"), { recursive: true });
  for (const entry of fs.readdirSync(from)) {
    if (entry !== "@keel") fs.symlinkSync(path.join(from, entry), path.join(to, entry));
  }
  for (const dir of fs.readdirSync(path.join(tree, "components"))) {
    const manifest = path.join(tree, "components", dir, "package.json");
    if (!fs.existsSync(manifest)) continue;
    const name = JSON.parse(fs.readFileSync(manifest, "utf8")).name as string;
    fs.symlinkSync(path.join("..", "..", "components", dir), path.join(to, name));
  }
}

function dump(root: string, tree: string, out: string): void {
  run(process.execPath, [path.join(root, "bin/scripts/render/full.js"), tree, out, ...stacks], root);
}

function compare(root: string, rev: string): boolean {
  const sha = run("git", ["rev-parse", "--verify", `${rev}^{commit}`], root).trim();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "keel-render-compare-"));
  const tree = path.join(work, "tree");
  try {
    run("git", ["worktree", "add", "--detach", "--quiet", tree, sha], root);
    linkNodeModules(root, tree);
    console.log(`building ${rev} (${sha.slice(0, 12)}) in ${tree}`);
    run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-b"], tree);
    dump(root, tree, path.join(work, "before"));
    dump(root, root, path.join(work, "after"));
    let same = true;
    const diffs: string[] = [];
    for (const stack of stacks) {
      const [before, after] = ["before", "after"].map((side) => path.join(work, side, `${stack}.yaml`));
      const summary = summarize(stack, fs.readFileSync(before, "utf8"), fs.readFileSync(after, "utf8"));
      console.log(summary.text);
      if (summary.same) continue;
      same = false;
      const labels = ["--label", `${rev}/${stack}`, "--label", `working-tree/${stack}`];
      diffs.push(spawnSync("diff", ["-u", ...labels, before, after], { encoding: "utf8" }).stdout);
    }
    if (!same) console.log(`\n${diffs.join("")}`);
    return same;
  } finally {
    spawnSync("git", ["worktree", "remove", "--force", tree], { cwd: root });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const root = path.resolve(__dirname, "../../..");
  try {
    process.exit(compare(root, process.argv[2] ?? "HEAD") ? 0 : 1);
  } catch (e: unknown) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  }
}

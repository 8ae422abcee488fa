import * as fs from "fs";
import * as path from "path";
import { Page, RepoFacts } from "./docs-check";

/** What docs-check needs to know about the repository, read from disk. */

/** The pages a user reads: the READMEs and the docs folders (not fixtures, not generated benchmark results). */
export function readPages(root: string): Page[] {
  const files = [
    "README.md",
    ...markdownIn(root, "docs", false),
    ...markdownIn(root, "components", true).filter((f) => path.posix.basename(f) === "README.md"),
    "policy-pack/README.md",
    ...markdownIn(root, "policy-pack/docs", false),
    ...markdownIn(root, "scripts", true).filter((f) => path.posix.basename(f) === "README.md"),
  ];
  return files.map((file) => ({ file, text: fs.readFileSync(path.join(root, file), "utf8") }));
}

function markdownIn(root: string, dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory() && recursive && !["node_modules", "dist", "bin"].includes(e.name)) {
      out.push(...markdownIn(root, rel, true));
    } else if (e.isFile() && e.name.endsWith(".md")) out.push(rel);
  }
  return out.sort();
}

export function repoFacts(root: string, configKeys: RepoFacts["configKeys"]): RepoFacts {
  const scripts = new Map<string, ReadonlySet<string> | undefined>();
  return {
    exists: (rel) => fs.existsSync(path.join(root, rel)),
    read: (rel) => {
      const file = path.join(root, rel);
      return fs.existsSync(file) && fs.statSync(file).isFile() ? fs.readFileSync(file, "utf8") : undefined;
    },
    scripts: (dir) => {
      if (!scripts.has(dir)) scripts.set(dir, readScripts(path.join(root, dir, "package.json")));
      return scripts.get(dir);
    },
    entries: (dir) => {
      try {
        return new Set(fs.readdirSync(path.join(root, dir)));
      } catch {
        return new Set();
      }
    },
    workspaces: workspaceFolders(root),
    ignoredNames: ignoredFolderNames(root),
    configKeys,
  };
}

/** The root package.json's workspaces: folders, or `dir/*` for every folder in dir. */
function workspaceFolders(root: string): ReadonlySet<string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
    workspaces?: string[];
  };
  return new Set(
    (pkg.workspaces ?? []).flatMap((w) => (w.endsWith("/*") ? subfolders(root, w.slice(0, -2)) : [w])),
  );
}

function readScripts(file: string): ReadonlySet<string> | undefined {
  if (!fs.existsSync(file)) return undefined;
  const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { scripts?: Record<string, string> };
  return new Set(Object.keys(pkg.scripts ?? {}));
}

/** Plain folder names of the root's and the packages' .gitignore files (`bin/`, `node_modules/`, …). */
function ignoredFolderNames(root: string): ReadonlySet<string> {
  const names = new Set<string>();
  for (const dir of [".", "policy-pack", ...subfolders(root, "components")]) {
    const file = path.join(root, dir, ".gitignore");
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      const name = line.trim().replace(/^\//, "").replace(/\/$/, "");
      if (name !== "" && !name.startsWith("#") && !/[*?[/!]/.test(name)) names.add(name);
    }
  }
  return names;
}

function subfolders(root: string, dir: string): string[] {
  if (!fs.existsSync(path.join(root, dir))) return [];
  return fs
    .readdirSync(path.join(root, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `${dir}/${e.name}`);
}

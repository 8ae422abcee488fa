// The production node_modules of a project, copied from an installed tree as package-lock.json describes it:
// devDependencies left out, npm workspace packages (symlinks into the repository) materialized as real folders.
import * as fs from "fs";
import * as path from "path";

export interface LockPackage {
  version?: string;
  resolved?: string;
  link?: boolean;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
}

export interface Lockfile {
  lockfileVersion?: number;
  packages?: Record<string, LockPackage>;
}

/** One folder to copy: from `from` (relative to the installed project) to `to` (relative to the copy). */
export interface CopyStep {
  from: string;
  to: string;
  /** A workspace package: only its published files are copied. */
  workspace: boolean;
  optional: boolean;
}

/**
 * What a production install holds, from the lockfile's `packages` map (lockfileVersion 2 or 3): every
 * `node_modules/...` entry not flagged dev/devOptional, workspace folders at the paths their links occupy,
 * and packages nested under a workspace moved along with it. Sorted by destination.
 */
export function productionPlan(lock: Lockfile): CopyStep[] {
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2) {
    throw new Error("package-lock.json must be lockfileVersion 2 or 3 (npm 7 or newer)");
  }
  const entries = Object.entries(lock.packages);
  const workspaces = new Map<string, string>(); // workspace folder -> path of its link in node_modules
  for (const [key, e] of entries) {
    if (e.link && e.resolved && !e.dev && !e.devOptional) workspaces.set(e.resolved, key);
  }
  const plan: CopyStep[] = [];
  for (const [key, e] of entries) {
    if (key === "" || e.link || e.dev || e.devOptional) continue;
    const optional = e.optional === true;
    if (key.startsWith("node_modules/")) {
      plan.push({ from: key, to: key, workspace: false, optional });
      continue;
    }
    if (workspaces.has(key)) {
      plan.push({ from: key, to: workspaces.get(key)!, workspace: true, optional });
      continue;
    }
    const owner = [...workspaces.keys()].find((w) => key.startsWith(`${w}/node_modules/`));
    if (owner) {
      plan.push({
        from: key,
        to: workspaces.get(owner)! + key.slice(owner.length),
        workspace: false,
        optional,
      });
    }
    // Anything else is a workspace no production dependency links to: not part of the install.
  }
  return plan.sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
}

/** The files a workspace package publishes: package.json, its `files` entries, README/LICENSE. */
function workspaceFiles(dir: string): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const always = fs.readdirSync(dir).filter((f) => /^(readme|license|licence|notice)(\..*)?$/i.test(f));
  if (!Array.isArray(pkg.files)) {
    return fs
      .readdirSync(dir)
      .filter(
        (f) => !["node_modules", "src", "test"].includes(f) && !/^tsconfig.*\.json$|\.tsbuildinfo$/.test(f),
      );
  }
  return [...new Set(["package.json", ...always, ...(pkg.files as string[])])];
}

/** Copies a folder's regular files (symlinks to files dereferenced), skipping `skipTop` entries at its root. */
function copyTree(from: string, to: string, skipTop: Set<string>): number {
  let files = 0;
  const walk = (src: string, dst: string, top: boolean) => {
    fs.mkdirSync(dst, { recursive: true });
    for (const e of fs.readdirSync(src, { withFileTypes: true })) {
      if (top && skipTop.has(e.name)) continue;
      const s = path.join(src, e.name);
      const d = path.join(dst, e.name);
      const st = fs.statSync(s); // follows symlinks
      if (st.isDirectory()) {
        if (e.isSymbolicLink()) continue; // e.g. node_modules/.bin style links: never part of a package
        walk(s, d, false);
      } else if (st.isFile()) {
        fs.copyFileSync(s, d);
        fs.chmodSync(d, st.mode & 0o777);
        files++;
      }
    }
  };
  walk(from, to, true);
  return files;
}

/**
 * Copies the production tree of the project at `projectDir` into `targetDir` (which gets `node_modules/`).
 * Returns the number of packages and files copied. Optional packages absent on disk are skipped.
 */
export function copyProductionTree(
  projectDir: string,
  targetDir: string,
  plan: CopyStep[],
): { packages: number; files: number } {
  let packages = 0;
  let files = 0;
  for (const step of plan) {
    const src = path.join(projectDir, step.from);
    if (!fs.existsSync(path.join(src, "package.json"))) {
      if (step.optional) continue;
      throw new Error(`${step.from} is in package-lock.json but not installed: run \`npm ci\` first`);
    }
    const dst = path.join(targetDir, step.to);
    if (step.workspace) {
      for (const f of workspaceFiles(src)) {
        const s = path.join(src, f);
        if (!fs.existsSync(s)) {
          throw new Error(
            `${step.from}/${f} is missing: build the workspace packages first (\`npm run build\`)`,
          );
        }
        if (fs.statSync(s).isDirectory()) files += copyTree(s, path.join(dst, f), new Set());
        else {
          fs.mkdirSync(dst, { recursive: true });
          fs.copyFileSync(s, path.join(dst, f));
          files++;
        }
      }
    } else {
      files += copyTree(src, dst, new Set(["node_modules"]));
    }
    packages++;
  }
  return { packages, files };
}

/** Finds `name` as Node would from `fromDir`, never looking above `root`. */
function resolvesFrom(root: string, fromDir: string, name: string): boolean {
  let dir = fromDir;
  for (;;) {
    if (fs.existsSync(path.join(dir, "node_modules", name, "package.json"))) return true;
    if (path.resolve(dir) === path.resolve(root)) return false;
    const up = path.dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

/**
 * Every package folder under `root/node_modules` whose `dependencies` (and non-optional peer dependencies) do
 * not resolve inside `root`: what `require` would fail on once the tree is carried away from the repository.
 */
export function unresolvedDependencies(root: string): string[] {
  const problems: string[] = [];
  const visit = (pkgDir: string) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
    const optionalPeers = pkg.peerDependenciesMeta ?? {};
    const needed = [
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}).filter((p) => !optionalPeers[p]?.optional),
    ];
    const optional = new Set(Object.keys(pkg.optionalDependencies ?? {}));
    for (const dep of needed) {
      if (optional.has(dep)) continue;
      if (!resolvesFrom(root, pkgDir, dep)) {
        problems.push(`${path.relative(root, pkgDir)} needs ${dep}`);
      }
    }
  };
  const scan = (nodeModules: string) => {
    if (!fs.existsSync(nodeModules)) return;
    for (const e of fs.readdirSync(nodeModules, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      const dirs = e.name.startsWith("@")
        ? fs.readdirSync(path.join(nodeModules, e.name)).map((n) => path.join(nodeModules, e.name, n))
        : [path.join(nodeModules, e.name)];
      for (const d of dirs) {
        if (!fs.existsSync(path.join(d, "package.json"))) continue;
        visit(d);
        scan(path.join(d, "node_modules"));
      }
    }
  };
  scan(path.join(root, "node_modules"));
  return problems.sort();
}

/** Every package.json in a copied tree (for plugin discovery). */
export function installedPackages(root: string): { name: string; version: string; pulumi?: unknown }[] {
  const out: { name: string; version: string; pulumi?: unknown }[] = [];
  const scan = (nodeModules: string) => {
    if (!fs.existsSync(nodeModules)) return;
    for (const e of fs.readdirSync(nodeModules, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      const dirs = e.name.startsWith("@")
        ? fs.readdirSync(path.join(nodeModules, e.name)).map((n) => path.join(nodeModules, e.name, n))
        : [path.join(nodeModules, e.name)];
      for (const d of dirs) {
        const file = path.join(d, "package.json");
        if (!fs.existsSync(file)) continue;
        const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
        out.push({ name: pkg.name, version: pkg.version, pulumi: pkg.pulumi });
        scan(path.join(d, "node_modules"));
      }
    }
  };
  scan(path.join(root, "node_modules"));
  return out;
}

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Run } from "../harness";

/** One entry of `npm pack --json`. */
export interface Packed {
  name: string;
  version: string;
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

export const pulumiPackages = ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/random", "@pulumi/tls"];

/** Like harness.must, in another directory (the outside project lives outside the repository). */
export function mustIn(env: NodeJS.ProcessEnv, cwd: string, cmd: string, args: string[]): Run {
  const started = Date.now();
  process.stderr.write(`      $ (cd ${cwd} && ${cmd} ${args.join(" ")})\n`);
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  process.stderr.write(`        (${((Date.now() - started) / 1000).toFixed(1)} s, exit ${r.status})\n`);
  const out = { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  if (out.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${out.status}):\n${out.stdout.slice(-8000)}\n${out.stderr.slice(-8000)}`,
    );
  }
  return out;
}

/** Workspace package name → its folder, from the root package.json's workspace folders. */
export function workspacePackages(root: string): Map<string, string> {
  const dirs = fs.readdirSync(path.join(root, "components")).map((d) => path.join(root, "components", d));
  return new Map(
    dirs
      .filter((d) => fs.existsSync(path.join(d, "package.json")))
      .map((d) => [JSON.parse(fs.readFileSync(path.join(d, "package.json"), "utf8")).name, d]),
  );
}

/** Paths under `dir` (relative, posix) of files whose name ends with `ext`. */
function filesEndingWith(dir: string, ext: string, rel = ""): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const child = path.posix.join(rel, e.name);
    if (e.isDirectory()) return filesEndingWith(dir, ext, child);
    return e.name.endsWith(ext) ? [child] : [];
  });
}

/**
 * What a component's tarball must hold: each src/*.ts compiled to .js, .d.ts and a source map (sources inlined:
 * src is not shipped), the Python scripts the compiled code reads from python/ as they are, the README and
 * package.json. Nothing stale, no tests, no tsbuildinfo.
 */
export function expectedTarballFiles(componentDir: string): string[] {
  const src = path.join(componentDir, "src");
  const compiled = filesEndingWith(src, ".ts").flatMap((s) =>
    ["js", "d.ts", "js.map"].map((ext) => `dist/${s.slice(0, -3)}.${ext}`),
  );
  // Scripts in their own language, read at run time and shipped as they are.
  const scripts = [
    ["python", ".py"],
    ["sh", ".sh"],
  ].flatMap(([dir, ext]) => {
    const full = path.join(componentDir, dir);
    return fs.existsSync(full) ? filesEndingWith(full, ext).map((f) => `${dir}/${f}`) : [];
  });
  return [...compiled, ...scripts, "README.md", "package.json"].sort();
}

/** Source maps under `dir` that lack the inlined source of any file they map. */
export function mapsWithoutSources(dir: string): string[] {
  const maps = fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".js.map"))
    .map((f) => path.join(dir, f));
  return maps.filter((m) => {
    const map = JSON.parse(fs.readFileSync(m, "utf8"));
    const content: unknown[] = map.sourcesContent ?? [];
    return content.length !== map.sources.length || content.some((c) => typeof c !== "string");
  });
}

/** The outside project's package.json: the tarballs by file: URL and the Pulumi SDKs at the repository's pins. */
export function outsidePackageJson(rootPackage: any, tarballs: Map<string, string>): object {
  const dependencies: Record<string, string> = {};
  for (const [name, file] of tarballs) dependencies[name] = `file:${file}`;
  for (const name of pulumiPackages) dependencies[name] = rootPackage.dependencies[name];
  const devDependencies = {
    typescript: rootPackage.devDependencies.typescript,
    "@types/node": rootPackage.devDependencies["@types/node"],
  };
  return { name: "keel-outside", version: "0.0.0", private: true, dependencies, devDependencies };
}

/** Copies the fixture program into `dir`: stack config under Pulumi.<stack>.yaml. */
export function copyFixture(fixture: string, dir: string, stack: string): void {
  for (const f of ["Pulumi.yaml", "tsconfig.json", "index.ts"]) {
    fs.copyFileSync(path.join(fixture, f), path.join(dir, f));
  }
  fs.copyFileSync(path.join(fixture, "stack-config.yaml"), path.join(dir, `Pulumi.${stack}.yaml`));
}

/** Every package.json under node_modules named `name` (nested copies included). */
export function installedCopies(dir: string, name: string): string[] {
  const found: string[] = [];
  const walk = (modules: string) => {
    if (!fs.existsSync(modules)) return;
    for (const e of fs.readdirSync(modules)) {
      const entries = e.startsWith("@") ? fs.readdirSync(path.join(modules, e)).map((s) => `${e}/${s}`) : [e];
      for (const pkg of entries) {
        const at = path.join(modules, pkg);
        if (pkg === name) found.push(at);
        walk(path.join(at, "node_modules"));
      }
    }
  };
  walk(path.join(dir, "node_modules"));
  return found;
}

/** The engine events of a streamed JSON preview (PULUMI_ENABLE_STREAMING_JSON_PREVIEW), one per line. */
export function engineEvents(stdout: string): any[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
}

/** Resource count by type in the planned steps. */
export function countByType(events: any[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) {
    const type = e.resourcePreEvent?.metadata?.type;
    if (type) counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** Names (last URN segment) of the planned resources of one type, sorted. */
export function namesOfType(events: any[], type: string): string[] {
  return events
    .filter((e) => e.resourcePreEvent?.metadata?.type === type)
    .map((e) => String(e.resourcePreEvent.metadata.urn).split("::").pop()!)
    .sort();
}

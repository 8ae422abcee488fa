import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
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

/**
 * The `keel:` keys program/config.ts reads: its exported top-level keys, and for each `object("<key>",
 * get("<key>"), <allowed>)` call the sub-keys it allows, evaluated from the source (string lists,
 * `Object.keys(x)`, spreads, and names imported from a package, which are loaded).
 */
export function configKeysFromSource(
  source: string,
  topLevel: readonly string[],
  load: (module: string) => Record<string, unknown>,
): Map<string, ReadonlySet<string> | null> {
  const sf = ts.createSourceFile("config.ts", source, ts.ScriptTarget.ES2022, true);
  const imports = importedNames(sf);
  const keys = new Map<string, ReadonlySet<string> | null>(topLevel.map((k) => [k, null]));
  const visit = (node: ts.Node): void => {
    const allowed = objectCall(node);
    if (allowed && keys.has(allowed.key)) {
      const value = evaluate(allowed.expr, (name) => {
        const from = imports.get(name);
        if (!from)
          throw new Error(`program/config.ts: cannot evaluate ${name} (not imported from a package)`);
        return load(from.module)[from.name];
      });
      keys.set(allowed.key, new Set(value as string[]));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return keys;
}

function importedNames(sf: ts.SourceFile): Map<string, { module: string; name: string }> {
  const out = new Map<string, { module: string; name: string }>();
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
    const bindings = st.importClause?.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings)) continue;
    for (const el of bindings.elements) {
      out.set(el.name.text, { module: st.moduleSpecifier.text, name: (el.propertyName ?? el.name).text });
    }
  }
  return out;
}

/** `object("key", get("key"), expr)`: a top-level key's allowed sub-keys. */
function objectCall(node: ts.Node): { key: string; expr: ts.Expression } | undefined {
  if (!ts.isCallExpression(node) || !ts.isIdentifier(node.expression) || node.expression.text !== "object") {
    return undefined;
  }
  const [key, value, allowed] = node.arguments;
  if (!key || !ts.isStringLiteral(key) || !allowed || !ts.isCallExpression(value)) return undefined;
  return { key: key.text, expr: allowed };
}

function evaluate(expr: ts.Expression, resolve: (name: string) => unknown): unknown {
  if (ts.isStringLiteral(expr)) return expr.text;
  if (ts.isIdentifier(expr)) return resolve(expr.text);
  if (ts.isArrayLiteralExpression(expr)) {
    return expr.elements.flatMap((el) =>
      ts.isSpreadElement(el) ? (evaluate(el.expression, resolve) as unknown[]) : [evaluate(el, resolve)],
    );
  }
  if (
    ts.isCallExpression(expr) &&
    expr.expression.getText() === "Object.keys" &&
    expr.arguments.length === 1
  ) {
    return Object.keys(evaluate(expr.arguments[0], resolve) as object);
  }
  throw new Error(`program/config.ts: cannot evaluate ${expr.getText()}`);
}

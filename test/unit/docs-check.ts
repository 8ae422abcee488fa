import * as path from "path";

/**
 * Checks that a Markdown page names only npm scripts, `keel:` config keys and repository paths that exist.
 * Pure: everything it knows about the repository comes in through `RepoFacts` (docs-repo.ts reads them from disk).
 */

export type RefKind = "script" | "config" | "path" | "link";
export const refKinds: readonly RefKind[] = ["script", "config", "path", "link"];

export interface Page {
  /** Repository-relative, with forward slashes. */
  file: string;
  text: string;
}

export interface Finding {
  page: string;
  line: number;
  kind: RefKind;
  ref: string;
  problem: string;
}

export interface RepoFacts {
  /** Whether a repository-relative path (file or folder) exists. */
  exists(rel: string): boolean;
  /** The text of a repository file; undefined when there is none. */
  read(rel: string): string | undefined;
  /** The script names of `<dir>/package.json`; undefined when the folder has none. */
  scripts(dir: string): ReadonlySet<string> | undefined;
  /** The names directly inside a repository folder. */
  entries(dir: string): ReadonlySet<string>;
  /** The folders of the root's npm workspaces. */
  workspaces: ReadonlySet<string>;
  /** Folder names the repository git-ignores (build outputs): paths through them are not checked. */
  ignoredNames: ReadonlySet<string>;
  /** Every top-level `keel:` key with its sub-keys; null when the key takes no sub-keys. */
  configKeys: ReadonlyMap<string, ReadonlySet<string> | null>;
}

export interface PageResult {
  findings: Finding[];
  counts: Record<RefKind, number>;
}

export function formatFinding(f: Finding): string {
  return `${f.page}:${f.line}: ${f.kind} ${f.ref}: ${f.problem}`;
}

export function checkPage(page: Page, facts: RepoFacts): PageResult {
  const counts: Record<RefKind, number> = { script: 0, config: 0, path: 0, link: 0 };
  const findings: Finding[] = [];
  const add = (kind: RefKind, line: number, ref: string, problem: string | undefined) => {
    counts[kind]++;
    if (problem !== undefined) findings.push({ page: page.file, line, kind, ref, problem });
  };
  const lines = page.text.split("\n");
  const prose = withoutFences(lines);
  for (const r of scriptRefs(lines)) add("script", r.line, r.ref, scriptProblem(r, page.file, lines, facts));
  for (const r of configRefs(page.text)) add("config", r.line, r.ref, configProblem(r.ref, facts));
  for (const r of codeSpanPaths(prose, page.file, facts))
    add("path", r.line, r.ref, pathProblem(r.ref, page.file, facts));
  for (const r of linkTargets(prose)) add("link", r.line, r.ref, linkProblem(r.ref, page, facts));
  return { findings, counts };
}

interface Ref {
  line: number;
  ref: string;
}

function lineAt(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** The page with the lines of fenced code blocks emptied (line numbers kept): commands there run anywhere. */
export function withoutFences(lines: string[]): string {
  let inFence = false;
  return lines
    .map((l) => {
      if (/^\s*(```|~~~)/.test(l)) {
        inFence = !inFence;
        return "";
      }
      return inFence ? "" : l;
    })
    .join("\n");
}

/** The nearest folder at or above the page's that has a package.json ("." is the root). */
export function packageRoot(file: string, facts: RepoFacts): string {
  let dir = path.posix.dirname(file);
  while (dir !== "." && facts.scripts(dir) === undefined) dir = path.posix.dirname(dir);
  return dir;
}

// ---- npm scripts -------------------------------------------------------------------------------------------

interface ScriptRef extends Ref {
  prefix: string | undefined;
}

const npmOption = String.raw`(?:\s+(?:--prefix(?:=|\s+)[^\s\`]+|-s|--silent|-q|--quiet))`;
const npmRe = new RegExp(
  String.raw`\bnpm(${npmOption}*)\s+(run-script|run|test|start)\b(${npmOption}*)(?:\s+([A-Za-z][\w:.-]*))?`,
  "g",
);

/** `npm run <name>`, `npm run -s <name>`, `npm --prefix <dir> run <name>`, `npm test`, `npm start`, in prose and code. */
export function scriptRefs(lines: string[]): ScriptRef[] {
  const refs: ScriptRef[] = [];
  lines.forEach((text, i) => {
    for (const m of text.matchAll(npmRe)) {
      const name = m[2].startsWith("run") ? m[4] : m[2];
      if (name === undefined) continue; // `npm run <name>`: a placeholder
      const prefix = /--prefix(?:=|\s+)([^\s`]+)/.exec(m[1] + m[3])?.[1];
      refs.push({ line: i + 1, ref: name, prefix });
    }
  });
  return refs;
}

/**
 * Which package.json a command means: `--prefix <dir>` names it (relative to the repository root, where the
 * docs run such commands). Otherwise the package the page belongs to, where a workspace of the root
 * (components/*) counts as the root: its scripts are run from there. A page of a stand-alone package
 * (policy-pack/) may also name a root script when its paragraph says so ("from the repository root", "the
 * repository's benchmark").
 */
function scriptProblem(r: ScriptRef, file: string, lines: string[], facts: RepoFacts): string | undefined {
  const own = packageRoot(file, facts);
  const pkg = r.prefix !== undefined ? path.posix.normalize(r.prefix) : facts.workspaces.has(own) ? "." : own;
  const scripts = facts.scripts(pkg);
  if (scripts === undefined) return `no package.json in ${pkg}/`;
  if (scripts.has(r.ref)) return undefined;
  const rootMeant =
    r.prefix === undefined &&
    pkg !== "." &&
    /\bthe repository(?:'s|\s+root)\b/i.test(paragraph(lines, r.line - 1));
  if (rootMeant && facts.scripts(".")!.has(r.ref)) return undefined;
  return `no script "${r.ref}" in ${pkg === "." ? "" : pkg + "/"}package.json`;
}

function paragraph(lines: string[], i: number): string {
  let start = i;
  let end = i;
  while (start > 0 && lines[start - 1].trim() !== "") start--;
  while (end < lines.length - 1 && lines[end + 1].trim() !== "") end++;
  return lines.slice(start, end + 1).join("\n");
}

// ---- config keys -------------------------------------------------------------------------------------------

/** `keel:<key>` and `keel:<key>.<sub>…` anywhere (stack files in code blocks too); `keel:<module>:<Type>` tokens are not config. */
export function configRefs(text: string): Ref[] {
  const refs: Ref[] = [];
  for (const m of text.matchAll(/\bkeel:([A-Za-z]\w*(?:\.[A-Za-z<][\w<>]*)*)/g)) {
    const after = text.slice(m.index! + m[0].length, m.index! + m[0].length + 2);
    if (/^:[A-Za-z<]/.test(after)) continue;
    refs.push({ line: lineAt(text, m.index!), ref: `keel:${m[1]}` });
  }
  return refs;
}

/** The key and its first sub-key must be read by the program; deeper levels (`workers.synchrotron`) are not checked. */
function configProblem(ref: string, facts: RepoFacts): string | undefined {
  const [key, sub] = ref.slice("keel:".length).split(".");
  if (!facts.configKeys.has(key)) return "not a key program/config.ts reads";
  if (sub === undefined || sub.startsWith("<")) return undefined;
  const subs = facts.configKeys.get(key);
  if (subs === null) return `keel:${key} takes no sub-keys`;
  return subs!.has(sub) ? undefined : `keel:${key} has no sub-key "${sub}"`;
}

// ---- repository paths in code spans ------------------------------------------------------------------------

/**
 * Words of inline code spans that look like repository paths: a slash, and a first segment that is an entry
 * of the root, of the page's package or of the page's folder (after any `./` or `../`). Not: URLs, absolute or home or
 * `$VARIABLE` paths (created at run time), globs, placeholders, brace lists, scoped npm packages.
 */
export function codeSpanPaths(prose: string, file: string, facts: RepoFacts): Ref[] {
  const known = new Set<string>();
  for (const dir of new Set([".", packageRoot(file, facts), path.posix.dirname(file)])) {
    for (const e of facts.entries(dir)) known.add(e);
  }
  const refs: Ref[] = [];
  for (const m of prose.matchAll(/`([^`\n]+(?:\n(?!\s*\n)[^`\n]+)*)`/g)) {
    const line = lineAt(prose, m.index!);
    for (const word of m[1].split(/\s+/)) {
      const p = word.replace(/^[("']+/, "").replace(/[)"',;:]+$/, "");
      if (!looksLikePath(p, known, facts.ignoredNames)) continue;
      refs.push({ line: line + (m[1].slice(0, m[1].indexOf(word)).match(/\n/g)?.length ?? 0), ref: p });
    }
  }
  return refs;
}

function looksLikePath(p: string, known: ReadonlySet<string>, ignored: ReadonlySet<string>): boolean {
  if (!p.includes("/") || /^[a-z][\w+.-]*:/i.test(p) || /^[/~$@-]/.test(p) || /[<>*?{}[\]$=|]/.test(p))
    return false;
  const segments = p.split("/");
  // `./x/y` and `../x/y` name the repository only when `x` is one of its folders (`./cmd/stunnerd` is Go's).
  const first = segments.find((s) => s !== "." && s !== "..");
  return first !== undefined && known.has(first) && !segments.some((s) => ignored.has(s));
}

/** Code that looks like a repository path but names another project's file, by page. */
const notRepoPaths: Record<string, readonly string[]> = {
  // kube-linter's own documentation page, cited as the source of the kube-linter column.
  "policy-pack/docs/coverage.md": ["docs/generated/checks.md"],
};

/** A path resolves against the repository root, the page's package or the page's folder. */
function pathProblem(p: string, file: string, facts: RepoFacts): string | undefined {
  if (notRepoPaths[file]?.includes(p)) return undefined;
  const bases = new Set([".", packageRoot(file, facts), path.posix.dirname(file)]);
  for (const base of bases) {
    const rel = path.posix.normalize(path.posix.join(base, p));
    if (!rel.startsWith("..") && facts.exists(rel)) return undefined;
  }
  return `not found from ${[...bases].map((b) => (b === "." ? "the root" : b + "/")).join(", ")}`;
}

// ---- Markdown links ----------------------------------------------------------------------------------------

/** Inline `[text](target)` and reference `[id]: target` links, without URLs. */
export function linkTargets(prose: string): Ref[] {
  const refs: Ref[] = [];
  const patterns = [
    /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g,
    /^[ \t]*\[[^\]]+\]:[ \t]*<?(\S+?)>?(?:\s|$)/gm,
  ];
  for (const re of patterns) {
    for (const m of prose.matchAll(re)) {
      if (/^[a-z][\w+.-]*:/i.test(m[1])) continue;
      refs.push({ line: lineAt(prose, m.index!), ref: m[1] });
    }
  }
  return refs.sort((a, b) => a.line - b.line);
}

/**
 * A link resolves against the page's folder (a leading `/` against the root), as the Markdown renderer does;
 * its `#anchor`, on the same page or a linked Markdown page, must be one of that page's headings.
 */
function linkProblem(target: string, page: Page, facts: RepoFacts): string | undefined {
  const [file, anchor] = target.split("#", 2) as [string, string | undefined];
  const t = decodeURI(file.replace(/\?.*$/, ""));
  let rel = page.file;
  if (t !== "") {
    rel = path.posix.normalize(
      t.startsWith("/") ? t.slice(1) : path.posix.join(path.posix.dirname(page.file), t),
    );
    if (rel.startsWith("..")) return "points outside the repository";
    if (!facts.exists(rel)) return `${rel} does not exist`;
  }
  if (anchor === undefined || !rel.endsWith(".md")) return undefined;
  const text = rel === page.file ? page.text : facts.read(rel);
  return headingAnchors(text ?? "").has(anchor) ? undefined : `${rel} has no heading #${anchor}`;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of withoutFences(markdown.split("\n")).split("\n")) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const text = h[1].replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replace(/ /g, "-");
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

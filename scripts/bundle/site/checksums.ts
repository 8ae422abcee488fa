// Checksum manifest of a bundle, in `sha256sum` format ("<hex>  <relative path>", sorted by path), so an
// operator can also check it by hand with `sha256sum -c SHA256SUMS`. Runs at the site too: Node builtins only.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export const manifestName = "SHA256SUMS";
/** The ed25519 signature of the manifest (deploy.sh checks it with the site's openssl): not listed in it. */
export const signatureName = "SHA256SUMS.sig";
const unlistable = new Set([manifestName, signatureName]);

export interface ManifestEntry {
  sha256: string;
  path: string;
}

/** Every regular file under `root` as a POSIX relative path, sorted; symbolic links are refused. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isSymbolicLink()) throw new Error(`${path.relative(root, full)}: symbolic links are not allowed`);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out.push(path.relative(root, full).split(path.sep).join("/"));
    }
  };
  walk(root);
  return out.sort();
}

const chunk = Buffer.allocUnsafe(1 << 20);

export function sha256File(file: string): string {
  const hash = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = chunk;
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
}

export function formatManifest(entries: ManifestEntry[]): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join("");
}

/** Parses `sha256sum` output; throws naming the line for anything else (a manifest is never guessed at). */
export function parseManifest(text: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  const seen = new Set<string>();
  text.split("\n").forEach((line, i) => {
    if (line === "") return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new Error(`${manifestName} line ${i + 1}: not "<sha256>  <path>": ${JSON.stringify(line)}`);
    const p = m[2];
    if (p.startsWith("/") || p.split("/").includes("..")) {
      throw new Error(`${manifestName} line ${i + 1}: path ${JSON.stringify(p)} leaves the bundle`);
    }
    if (seen.has(p)) throw new Error(`${manifestName} line ${i + 1}: ${p} is listed twice`);
    seen.add(p);
    entries.push({ sha256: m[1], path: p });
  });
  return entries;
}

/** Hashes every file under `root` (except the manifest itself) and returns the manifest text. */
export function buildManifest(root: string): string {
  return formatManifest(
    listFiles(root)
      .filter((p) => !unlistable.has(p))
      .map((p) => ({ path: p, sha256: sha256File(path.join(root, p)) })),
  );
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  mismatched: string[];
  missing: string[];
  unlisted: string[];
}

/**
 * Compares the files under `root` with its manifest: every listed file must exist with its hash, and no
 * file may exist that the manifest does not list (an added module is as dangerous as a changed one).
 */
export function verifyManifest(root: string, manifestText?: string): VerifyResult {
  const text = manifestText ?? fs.readFileSync(path.join(root, manifestName), "utf8");
  const entries = parseManifest(text);
  const listed = new Set(entries.map((e) => e.path));
  const present = listFiles(root).filter((p) => !unlistable.has(p));
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const e of entries) {
    const file = path.join(root, e.path);
    if (!fs.existsSync(file)) missing.push(e.path);
    else if (sha256File(file) !== e.sha256) mismatched.push(e.path);
  }
  const unlisted = present.filter((p) => !listed.has(p));
  return {
    ok: missing.length + mismatched.length + unlisted.length === 0,
    checked: entries.length,
    mismatched,
    missing,
    unlisted,
  };
}

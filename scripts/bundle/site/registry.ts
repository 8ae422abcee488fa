// Image lists (images.txt, a registry catalog): one reference per line. Runs at the site: Node builtins only.
import { splitReference } from "./image-reference";

export { splitReference };

/** Parses a list of image references: one per line, blank lines and `#` comments ignored, duplicates dropped. */
export function parseImageList(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "" || seen.has(line)) continue;
    if (/\s/.test(line)) throw new Error(`not an image reference: ${JSON.stringify(raw.trim())}`);
    seen.add(line);
    out.push(line);
  }
  return out;
}

export function formatImageList(images: string[]): string {
  return [...new Set(images)]
    .sort()
    .map((i) => `${i}\n`)
    .join("");
}

export interface PresenceResult {
  present: string[];
  missing: string[];
}

/**
 * Which required images the registry catalog holds. A reference counts as present when the catalog lists it
 * exactly, or, for a digest-pinned reference, lists `name@digest` (a tag alone does not prove the digest).
 */
export function checkPresence(required: string[], catalog: string[]): PresenceResult {
  const available = new Set(catalog);
  const present: string[] = [];
  const missing: string[] = [];
  for (const ref of required) {
    const { name, digest } = splitReference(ref);
    if (available.has(ref) || (digest !== undefined && available.has(`${name}@${digest}`))) present.push(ref);
    else missing.push(ref);
  }
  return { present, missing };
}

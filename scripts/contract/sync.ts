// The contract between keel's components, its policy pack and the bundle's site tools lives once, in
// contract/. Each of them is installed on its own (the pack and the site tools without the components), so
// each gets a generated copy; `npm run contract` writes them and test/unit/contract.spec.ts fails on drift.
import * as fs from "fs";
import * as path from "path";

/** Each contract file and where its copies go (paths from the repository root). */
export const copies: Record<string, string[]> = {
  "contract/conventions.ts": [
    "components/core/src/contract/conventions.ts",
    "policy-pack/src/contract/conventions.ts",
  ],
  "contract/image-reference.ts": [
    "components/core/src/contract/image-reference.ts",
    "policy-pack/src/contract/image-reference.ts",
    // The site tools ship as the top-level files of their folder.
    "scripts/bundle/site/image-reference.ts",
  ],
};

/** The text of a copy: a header naming its source, then the source as it is. */
export function copyText(source: string, text: string): string {
  return `// Generated from ${source} by \`npm run contract\`; edit that file, not this copy.\n${text}`;
}

/** Copies that differ from what their source makes, as repository paths. */
export function staleCopies(root: string): string[] {
  return Object.entries(copies).flatMap(([source, targets]) => {
    const want = copyText(source, fs.readFileSync(path.join(root, source), "utf8"));
    return targets.filter((t) => {
      const file = path.join(root, t);
      return !fs.existsSync(file) || fs.readFileSync(file, "utf8") !== want;
    });
  });
}

function main(): void {
  const root = path.resolve(__dirname, "../../..");
  for (const [source, targets] of Object.entries(copies)) {
    const want = copyText(source, fs.readFileSync(path.join(root, source), "utf8"));
    for (const t of targets) {
      fs.mkdirSync(path.dirname(path.join(root, t)), { recursive: true });
      fs.writeFileSync(path.join(root, t), want);
      console.log(`${source} -> ${t}`);
    }
  }
}

if (require.main === module) main();

// The deploy script's helper at the site (tools/site.js in a bundle). Node builtins only: no repository, no npm.
//   site.js verify <bundle dir>                                   checksums, and no unlisted file
//   site.js images <images.txt> [--catalog <file>] [--allow-missing] registry presence of every image
//   site.js state-info <state.json> [--project <p> --stack <s>]   summary; fails on a foreign state
//   site.js state-compare <a.json> <b.json>                        "newer", "same" or "older": a against b
//   site.js push-images <bundle dir> --crane <bin> --record <file> [--insecure]
//                                      push the bundle's images, check the left-out ones, record digests
import * as fs from "fs";
import { verifyManifest } from "./checksums";
import { formatSiteRecord } from "./image-layout";
import { pushImages } from "./push-images";
import { checkPresence, parseImageList } from "./registry";
import { compareStates, stateProblems, summarizeState } from "./state";

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

function listSome(title: string, items: string[]): void {
  if (items.length === 0) return;
  say(`  ${title} (${items.length}):`);
  for (const i of items.slice(0, 25)) say(`    ${i}`);
  if (items.length > 25) say(`    ... and ${items.length - 25} more`);
}

function verify(dir: string): number {
  const r = verifyManifest(dir);
  if (r.ok) {
    say(`  ${r.checked} files match SHA256SUMS; no unlisted file`);
    return 0;
  }
  say("  the bundle does not match its SHA256SUMS: do not deploy it (copy it again from the source)");
  listSome("changed", r.mismatched);
  listSome("missing", r.missing);
  listSome("not in the manifest", r.unlisted);
  return 1;
}

function images(args: string[]): number {
  const file = args[0];
  const catalogAt = args.indexOf("--catalog");
  const allowMissing = args.includes("--allow-missing");
  const required = parseImageList(fs.readFileSync(file, "utf8"));
  if (catalogAt < 0) {
    say(`  ${required.length} images needed (images.txt); no --registry-catalog given, so their presence`);
    say("  in the private registry was NOT checked: pods whose image is missing stay in ImagePullBackOff");
    return 0;
  }
  const catalogFile = args[catalogAt + 1];
  if (!catalogFile || !fs.existsSync(catalogFile)) {
    say(`  registry catalog ${JSON.stringify(catalogFile ?? "")} not found`);
    return 2;
  }
  const { present, missing } = checkPresence(required, parseImageList(fs.readFileSync(catalogFile, "utf8")));
  say(`  ${present.length} of ${required.length} images are in the registry catalog ${catalogFile}`);
  if (missing.length === 0) return 0;
  listSome(allowMissing ? "WARNING: missing (continuing: --allow-missing-images)" : "missing", missing);
  if (allowMissing) return 0;
  say("  mirror them into the registry (the list is images.txt), or pass --allow-missing-images");
  return 1;
}

function stateInfo(args: string[]): number {
  const file = args[0];
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const s = summarizeState(JSON.parse(fs.readFileSync(file, "utf8")));
  const project = opt("--project");
  const stack = opt("--stack");
  const problems = project && stack ? stateProblems(s, project, stack) : [];
  for (const p of problems) say(`  ${file}: ${p}`);
  process.stdout.write(
    `resources=${s.resources} pending=${s.pendingOperations} time=${s.time ?? "unknown"} stack=${s.stack ?? ""}\n`,
  );
  return problems.length > 0 ? 1 : 0;
}

function stateCompare(args: string[]): number {
  const read = (f: string) => summarizeState(JSON.parse(fs.readFileSync(f, "utf8")));
  process.stdout.write(`${compareStates(read(args[0]), read(args[1]))}\n`);
  return 0;
}

function pushCommand(args: string[]): number {
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const craneBin = opt("--crane");
  const record = opt("--record");
  if (!craneBin || !record) throw new Error("push-images needs --crane <bin> and --record <file>");
  const r = pushImages(args[0], { crane: craneBin, insecure: args.includes("--insecure"), say });
  say(
    `  ${r.pushed.length} pushed, ${r.skipped.length} already there, ${r.held.length} held by the registry`,
  );
  listSome("FAILED", r.failed);
  listSome("left out of this bundle but NOT in the registry at the recorded digest", r.missing);
  if (r.failed.length + r.missing.length > 0) return 1;
  fs.writeFileSync(record, formatSiteRecord(r.held));
  say(`  the registry's images and digests: ${record} (carry it back: npm run bundle -- --site-images)`);
  return 0;
}

function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "verify":
      return verify(rest[0] ?? ".");
    case "images":
      return images(rest);
    case "state-info":
      return stateInfo(rest);
    case "state-compare":
      return stateCompare(rest);
    case "push-images":
      return pushCommand(rest);
    default:
      say("usage: site.js verify <dir> | images <images.txt> [--catalog <file>] [--allow-missing] |");
      say("       state-info <state.json> [--project <p> --stack <s>] | state-compare <a.json> <b.json> |");
      say("       push-images <bundle dir> --crane <bin> --record <file> [--insecure]");
      return 2;
  }
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    say(`  ${(e as Error).message}`);
    process.exitCode = 2;
  }
}

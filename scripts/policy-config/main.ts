// `npm run policy-config [-- --check]`: writes policy-pack/config/<stack>.json for every Pulumi.<stack>.yaml,
// derived from the stack config (capacity, air-gapped, allowed registries); --check only lists stale files.
import * as fs from "fs";
import * as path from "path";
import { policyConfigFor } from "../bundle/policy-config";
import { BundleError, readStackFile, stackConfigOf } from "../bundle/stack-file";

/** Each stack of the repository and the pack config its stack config makes, as the file's text. */
export function packConfigs(root: string): { stack: string; file: string; text: string }[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.([a-z0-9-]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort()
    .map((stack) => {
      const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
      const cfg = stackConfigOf(stackFile, readStackFile(stackFile));
      const text = JSON.stringify(policyConfigFor(cfg).config, null, 2) + "\n";
      return { stack, file: `policy-pack/config/${stack}.json`, text };
    });
}

function main(argv: string[]): number {
  const root = path.resolve(__dirname, "../../..");
  const check = argv.includes("--check");
  const stale = packConfigs(root).filter(({ file, text }) => {
    const target = path.join(root, file);
    const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : undefined;
    if (current === text) return false;
    if (!check) fs.writeFileSync(target, text);
    console.log(`${check ? "stale" : "wrote"}: ${file}`);
    return true;
  });
  return check && stale.length > 0 ? 1 : 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof BundleError)) throw e;
    console.error(e.message);
    process.exitCode = 2;
  }
}

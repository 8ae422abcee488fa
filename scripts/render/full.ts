/**
 * `node bin/scripts/render/full.js <tree> <out-dir> [dev|prod ...]`: renders the stacks of the compiled work
 * tree <tree> (its bin/scripts/render/render.js) under the unit tests' mocks and writes <out-dir>/<stack>.yaml,
 * the full dump of every resource (dump.ts). The tree may be another revision's worktree: its node_modules
 * must resolve the same @pulumi/pulumi as this script, which the check on the count below catches.
 */
import * as fs from "fs";
import * as path from "path";
import { recordRegistrations, toDumpYaml } from "./dump";

async function main(argv: string[]): Promise<void> {
  const [tree, outDir, ...named] = argv;
  if (!tree || !outDir) throw new Error("usage: full <tree> <out-dir> [dev|prod ...]");
  const stacks = named.length > 0 ? named : ["dev", "prod"];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const render = require(path.resolve(tree, "bin/scripts/render/render.js"));
  fs.mkdirSync(outDir, { recursive: true });
  for (const stack of stacks) {
    const finish = recordRegistrations();
    const objects: unknown[] = await render.renderObjects(stack);
    const resources = finish();
    const kubernetes = resources.filter((r) => r.type.startsWith("kubernetes:")).length;
    if (kubernetes !== objects.length) {
      throw new Error(
        `${tree}: ${objects.length} Kubernetes objects rendered, ${kubernetes} recorded: does its ` +
          "node_modules resolve this tree's @pulumi/pulumi?",
      );
    }
    const file = path.join(outDir, `${stack}.yaml`);
    fs.writeFileSync(file, toDumpYaml(resources));
    console.log(`${file}: ${resources.length} resources`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

/**
 * `node bin/scripts/render/main.js <out-dir> [dev|prod ...]`: writes <out-dir>/<stack>.yaml for each stack
 * (both by default), one YAML document per Kubernetes object, for tools that read manifests (kube-score).
 */
import * as fs from "fs";
import * as path from "path";
import { StackName, renderObjects, toYamlStream } from "./render";

async function main(argv: string[]): Promise<void> {
  const [outDir, ...named] = argv;
  if (!outDir) throw new Error("usage: render <out-dir> [dev|prod ...]");
  const stacks = (named.length > 0 ? named : ["dev", "prod"]) as StackName[];
  for (const s of stacks) {
    if (s !== "dev" && s !== "prod") throw new Error(`unknown stack ${s}: expected dev or prod`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  for (const stack of stacks) {
    const objects = await renderObjects(stack);
    const file = path.join(outDir, `${stack}.yaml`);
    fs.writeFileSync(file, toYamlStream(objects));
    console.log(`${file}: ${objects.length} objects`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

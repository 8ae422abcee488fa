#!/usr/bin/env node
/**
 * generate-benchmark <fixture folder> <copies> <out.yaml>: writes <copies> copies of a manifest set, each
 * in its own namespaces, as one multi-document YAML file. Used to measure the audit command's throughput.
 */
import * as fs from "fs";
import { dump } from "js-yaml";
import { K8sObject } from "../core/k8s";
import { loadManifests } from "./load-manifests";

export function copies(objects: readonly K8sObject[], count: number): K8sObject[] {
  const text = JSON.stringify(objects);
  const result: K8sObject[] = [];
  for (let i = 0; i < count; i++) {
    for (const obj of JSON.parse(text) as K8sObject[]) {
      const meta = obj.metadata ?? {};
      if (obj.kind === "Namespace") {
        meta.name = `${meta.name}-${i}`;
      } else if (meta.namespace) {
        meta.namespace = `${meta.namespace}-${i}`;
      } else {
        meta.name = `${meta.name}-${i}`;
      }
      result.push(obj);
    }
  }
  return result;
}

if (require.main === module) {
  const [folder, count, out] = process.argv.slice(2);
  if (!folder || !count || !out) {
    process.stderr.write("usage: generate-benchmark <fixture folder> <copies> <out.yaml>\n");
    process.exit(2);
  }
  const objects = copies(loadManifests([folder]).objects, Number(count));
  fs.writeFileSync(out, objects.map((o) => dump(o, { noRefs: true })).join("---\n"));
  process.stdout.write(`${objects.length} objects written to ${out}\n`);
}

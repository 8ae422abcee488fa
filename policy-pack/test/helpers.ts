import * as path from "path";
import { PolicyConfigFile } from "../src/core/config";
import { evaluateAll } from "../src/core/evaluate";
import type { Finding } from "../src/core/finding";
import { Container, K8sObject, PodSpec, isRecord, podSpecOf } from "../src/core/k8s";
import { ALL_RULES } from "../src/registry";
import { loadManifests } from "../src/cli/load-manifests";

/** Source folder of the pack (tests run from bin/test, fixtures stay in test/fixtures). */
export const PACK_DIR = path.resolve(__dirname, "..", "..");
export const FIXTURES = path.join(PACK_DIR, "test", "fixtures");
export const HARDENED_DIR = path.join(FIXTURES, "hardened");
export const HARDENED_CONFIG = path.join(FIXTURES, "hardened-config.json");
export const SEEDS_DIR = path.join(FIXTURES, "seeds");
export const SEEDS_CONFIG = path.join(FIXTURES, "seeds-config.json");

export const hardenedConfig: PolicyConfigFile = require(HARDENED_CONFIG);

const hardenedText = JSON.stringify(loadManifests([HARDENED_DIR]).objects);

/** A fresh deep copy of the hardened manifest set: every rule passes on it. */
export function hardened(): K8sObject[] {
  return JSON.parse(hardenedText) as K8sObject[];
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) {
    throw new Error(`fixture has no ${kind} ${name}`);
  }
  return found;
}

export function pod(obj: K8sObject): PodSpec {
  const spec = podSpecOf(obj);
  if (!spec) {
    throw new Error(`${obj.kind} has no pod spec`);
  }
  return spec;
}

export function container(obj: K8sObject, index = 0): Container {
  const c = pod(obj).containers?.[index];
  if (!isRecord(c)) {
    throw new Error(`no container ${index}`);
  }
  return c;
}

export interface Seen {
  level: Finding["level"];
  kind: string;
  namespace: string;
  name: string;
  message: string;
}

/** Findings of one rule only, in a compact comparable shape. */
export function findingsOf(
  ruleId: string,
  objects: readonly K8sObject[],
  config: PolicyConfigFile = hardenedConfig,
): Seen[] {
  const rule = ALL_RULES.find((r) => r.id === ruleId);
  if (!rule) {
    throw new Error(`unknown rule ${ruleId}`);
  }
  return evaluateAll(objects, [rule], config, { knownRuleIds: new Set(ALL_RULES.map((r) => r.id)) }).map(
    (f) => ({ level: f.level, kind: f.kind, namespace: f.namespace, name: f.name, message: f.message }),
  );
}

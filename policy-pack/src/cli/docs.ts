#!/usr/bin/env node
/**
 * docs [--check]
 *
 * Renders the tables that describe the rule registry into the pack's documentation: the rule table and the
 * settings table of README.md, and the finding → rules table of docs/coverage.md (between
 * `<!-- generated:<name> -->` and `<!-- /generated:<name> -->`). With --check it writes nothing and exits 1
 * when a file is out of date (the test suite runs the same check).
 */
import * as fs from "fs";
import * as path from "path";
import type { Rule } from "../core/rule";
import { ALL_RULES } from "../registry";

/** The audit findings of shared/reference/policy-catalog.md, in short. */
export const FINDINGS: ReadonlyArray<[id: string, title: string]> = [
  ["F1", "containers without CPU/memory requests and limits"],
  ["F2", "missing liveness/readiness/startup probes, slow starters"],
  ["F3", "slow failure detection (initialDelay + period × failureThreshold)"],
  ["F4", 'PVCs with `storageClassName: ""` that never bind'],
  ["F5", "passwords and DSNs with passwords in ConfigMaps and env"],
  ["F6", "keys (git-crypt, SSH) in ConfigMaps"],
  ["F7", "root init container chowning a volume instead of fsGroup"],
  ["F8", "ServiceAccount bound to cluster-admin"],
  ["F9", "`:latest` and other mutable tags"],
  ["F10", "no PodDisruptionBudget for replicated/critical workloads"],
  ["F11", "no HorizontalPodAutoscaler for scalable services"],
  ["F12", "no ResourceQuota / LimitRange per namespace"],
  ["F13", "no NetworkPolicies: default deny, lawful-intercept isolation"],
  ["F14", "PostgreSQL memory settings vs the pod limit"],
  ["F15", "Elasticsearch JVM heap vs the pod limit"],
  ["F16", "Σ connection pools > max_connections"],
  ["F17", "total limits/requests exceed the cluster"],
  ["F18", "Redis maxmemory vs the pod limit"],
  ["F19", "emptyDir model caches lost on restart"],
  ["F20", "backups without retention/rotation"],
  ["F21", "Let's Encrypt (ACME) in an air-gapped install"],
  ["F22", "no Pod Security Standards: root, escalation, privileged"],
  ["F23", "coturn NET_ADMIN / host network: documented exception"],
  ["F24", "unpooled clients, unbounded in-memory caches (application code)"],
];

const PACK_DIR = path.resolve(__dirname, "..", "..", "..");
export const README = path.join(PACK_DIR, "README.md");
export const COVERAGE = path.join(PACK_DIR, "docs", "coverage.md");

function findingNumber(rule: Rule): number {
  return rule.findings.length > 0 ? Number(rule.findings[0]!.slice(1)) : Number.MAX_SAFE_INTEGER;
}

/** Rules ordered by their first finding, then by id; general hardening rules last. */
export function ordered(rules: readonly Rule[]): Rule[] {
  return [...rules].sort((a, b) => findingNumber(a) - findingNumber(b) || a.id.localeCompare(b.id));
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function rulesTable(rules: readonly Rule[]): string {
  const lines = [
    "| id | finding | scope | default level | checks | how to fix |",
    "| --- | --- | --- | --- | --- | --- |",
    ...ordered(rules).map(
      (r) =>
        `| \`${r.id}\` | ${r.findings.length > 0 ? r.findings.join(", ") : "–"} | ${r.scope} | ${r.defaultLevel} | ${cell(r.description)} | ${cell(r.fix)} |`,
    ),
  ];
  return lines.join("\n");
}

function formatDefault(value: unknown): string {
  if (value === undefined) {
    return "unset";
  }
  if (Array.isArray(value)) {
    return value.length === 0 ? "`[]`" : `\`${value.join(", ")}\``;
  }
  return `\`${JSON.stringify(value)}\``;
}

export function settingsTable(rules: readonly Rule[]): string {
  const lines = ["| rule | setting | default | meaning |", "| --- | --- | --- | --- |"];
  for (const rule of ordered(rules)) {
    for (const [key, schema] of Object.entries(rule.config.schema)) {
      const description = (schema as { description?: string }).description ?? "";
      lines.push(
        `| \`${rule.id}\` | \`${key}\` | ${formatDefault((rule.config.defaults as Record<string, unknown>)[key])} | ${cell(description)} |`,
      );
    }
  }
  return lines.join("\n");
}

export function findingsTable(rules: readonly Rule[]): string {
  const lines = ["| finding | what the audits found | keel rules | count |", "| --- | --- | --- | --- |"];
  for (const [id, title] of FINDINGS) {
    const covering = rules
      .filter((r) => r.findings.includes(id))
      .map((r) => `\`${r.id}\``)
      .sort();
    lines.push(
      `| ${id} | ${title} | ${covering.length > 0 ? covering.join(", ") : "none (not a manifest property)"} | ${covering.length} |`,
    );
  }
  const general = ordered(rules)
    .filter((r) => r.findings.length === 0)
    .map((r) => `\`${r.id}\``);
  lines.push(`| – | general hardening, not in the audits | ${general.join(", ")} | ${general.length} |`);
  return lines.join("\n");
}

/** Replaces the text between `<!-- generated:name -->` and `<!-- /generated:name -->`. */
export function replaceSection(text: string, name: string, content: string): string {
  const start = `<!-- generated:${name} -->`;
  const end = `<!-- /generated:${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    throw new Error(`missing ${start} ... ${end}`);
  }
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

/** The files as they should read for `rules`: path → expected text. */
export function renderDocs(rules: readonly Rule[] = ALL_RULES): Map<string, string> {
  const readme = replaceSection(
    replaceSection(fs.readFileSync(README, "utf8"), "rules", rulesTable(rules)),
    "settings",
    settingsTable(rules),
  );
  const coverage = replaceSection(fs.readFileSync(COVERAGE, "utf8"), "findings", findingsTable(rules));
  return new Map([
    [README, readme],
    [COVERAGE, coverage],
  ]);
}

if (require.main === module) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const [file, text] of renderDocs()) {
    if (fs.readFileSync(file, "utf8") === text) {
      continue;
    }
    if (check) {
      process.stderr.write(`docs: ${path.relative(process.cwd(), file)} is out of date: run npm run docs\n`);
      stale++;
    } else {
      fs.writeFileSync(file, text);
      process.stdout.write(`docs: wrote ${path.relative(process.cwd(), file)}\n`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}

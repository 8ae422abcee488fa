#!/usr/bin/env node
/**
 * pr-summary [--title <text>] <stack>=<event-log.jsonl> [<stack>=<file> ...]
 *
 * Turns the policy events of `pulumi preview --policy-pack ... --event-log <file>` into a Markdown comment:
 * per stack, violations grouped by rule and then by resource. Exit 2 on usage or read errors.
 */
import * as fs from "fs";
import { EventLogError, PolicyViolation, SummaryLevel, describeUrn, parseEventLog } from "./event-log";

export const SUMMARY_MARKER = "<!-- keel-policy-summary -->";

export interface StackViolations {
  stack: string;
  violations: PolicyViolation[];
}

const LEVEL_ORDER: Record<SummaryLevel, number> = { mandatory: 0, advisory: 1, exempt: 2 };
const LEVEL_ICON: Record<SummaryLevel, string> = { mandatory: "❌", advisory: "⚠️", exempt: "ℹ️" };

export function renderSummary(stacks: readonly StackViolations[], title = "Policy check"): string {
  const all = stacks.flatMap((s) => s.violations);
  const lines: string[] = [SUMMARY_MARKER, `## ${title}: ${counts(all)}`, ""];
  for (const { stack, violations } of stacks) {
    const status = violations.some((v) => v.level === "mandatory") ? "❌" : "✅";
    lines.push(`### ${status} Stack \`${stack}\`: ${counts(violations)}`, "");
    if (violations.length === 0) {
      lines.push("No policy violations.", "");
      continue;
    }
    lines.push("| Rule | Level | Resources |", "| --- | --- | ---: |");
    const groups = groupByRule(violations);
    for (const group of groups) {
      lines.push(
        `| \`${group.rule}\` | ${LEVEL_ICON[group.level]} ${group.level} | ${new Set(group.items.map((v) => v.resourceUrn ?? "")).size} |`,
      );
    }
    lines.push("");
    for (const group of groups) {
      lines.push(
        `<details${group.level === "mandatory" ? " open" : ""}><summary>${LEVEL_ICON[group.level]} <code>${group.rule}</code> (${group.level}, ${group.items.length})</summary>`,
        "",
      );
      lines.push("| Resource | What to change |", "| --- | --- |");
      const sorted = [...group.items].sort((a, b) =>
        describeUrn(a.resourceUrn).localeCompare(describeUrn(b.resourceUrn)),
      );
      for (const v of sorted) {
        lines.push(`| \`${escapeCell(describeUrn(v.resourceUrn))}\` | ${escapeCell(v.message)} |`);
      }
      lines.push("", "</details>", "");
    }
  }
  return lines.join("\n");
}

interface RuleGroup {
  rule: string;
  level: SummaryLevel;
  items: PolicyViolation[];
}

function groupByRule(violations: readonly PolicyViolation[]): RuleGroup[] {
  const groups = new Map<string, RuleGroup>();
  for (const v of violations) {
    const key = `${v.policyName}\u0000${v.level}`;
    const group = groups.get(key) ?? { rule: v.policyName, level: v.level, items: [] };
    group.items.push(v);
    groups.set(key, group);
  }
  return [...groups.values()].sort(
    (a, b) =>
      LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] ||
      b.items.length - a.items.length ||
      a.rule.localeCompare(b.rule),
  );
}

function counts(violations: readonly PolicyViolation[]): string {
  const n = (level: SummaryLevel) => violations.filter((v) => v.level === level).length;
  return `${n("mandatory")} mandatory, ${n("advisory")} advisory, ${n("exempt")} exempt`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function main(
  argv: readonly string[],
  out: (text: string) => void,
  err: (text: string) => void,
): number {
  let title: string | undefined;
  const inputs: Array<{ stack: string; file: string }> = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--title") {
      title = argv[++i];
    } else if (/^[^=]+=.+$/.test(arg)) {
      const eq = arg.indexOf("=");
      inputs.push({ stack: arg.slice(0, eq), file: arg.slice(eq + 1) });
    } else {
      err(
        `pr-summary: expected <stack>=<event-log file>, got '${arg}'\nusage: pr-summary [--title <text>] <stack>=<event-log.jsonl> ...\n`,
      );
      return 2;
    }
  }
  if (inputs.length === 0) {
    err("usage: pr-summary [--title <text>] <stack>=<event-log.jsonl> ...\n");
    return 2;
  }
  try {
    const stacks = inputs.map(({ stack, file }) => {
      if (!fs.existsSync(file)) {
        throw new EventLogError(`${file}: no such file (did the preview run?)`);
      }
      return { stack, violations: parseEventLog(fs.readFileSync(file, "utf8"), file) };
    });
    out(renderSummary(stacks, title));
    return 0;
  } catch (e) {
    if (e instanceof EventLogError) {
      err(`pr-summary: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  process.exitCode = main(
    process.argv.slice(2),
    (t) => process.stdout.write(t),
    (t) => process.stderr.write(t),
  );
}

import { strict as assert } from "assert";
import * as fs from "fs";
import { COVERAGE, FINDINGS, README, renderDocs } from "../src/cli/docs";
import { ALL_RULES } from "../src/registry";

/** The hand-written part of the coverage document (without the generated finding → rules table). */
function handWritten(text: string): string {
  return text.replace(/<!-- generated:findings -->[\s\S]*?<!-- \/generated:findings -->/, "");
}

/** Markdown table rows of a section, as arrays of trimmed cells. */
function rows(text: string, heading: string): string[][] {
  const section = text.slice(text.indexOf(heading));
  const end = section.indexOf("\n## ", 1);
  return (end > 0 ? section.slice(0, end) : section)
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| ---"))
    .slice(1)
    .map((l) =>
      l
        .slice(1, -1)
        .split(" | ")
        .map((c) => c.trim()),
    );
}

describe("documentation generated from the rule registry", () => {
  it("README.md (rule and settings tables) and docs/coverage.md (finding → rules) are current: run npm run docs", () => {
    for (const [file, expected] of renderDocs()) {
      assert.equal(fs.readFileSync(file, "utf8"), expected, `${file} is out of date`);
    }
  });

  it("the README lists every rule once with its level and description", () => {
    const text = fs.readFileSync(README, "utf8");
    const readme = text.slice(
      text.indexOf("<!-- generated:rules -->"),
      text.indexOf("<!-- /generated:rules -->"),
    );
    for (const rule of ALL_RULES) {
      const lines = readme.split("\n").filter((l) => l.startsWith(`| \`${rule.id}\` |`));
      assert.equal(lines.length, 1, rule.id);
      assert.ok(
        lines[0]!.includes(` | ${rule.defaultLevel} | ${rule.description.replace(/\|/g, "\\|")} |`),
        lines[0],
      );
    }
  });

  it("every rule id of the pack appears in the hand-written per-rule tool table, with its findings", () => {
    const table = rows(fs.readFileSync(COVERAGE, "utf8"), "## keel rules × tools");
    const byId = new Map(table.map((r) => [r[0]!.replace(/`/g, ""), r]));
    assert.deepEqual([...byId.keys()].sort(), ALL_RULES.map((r) => r.id).sort());
    assert.equal(table.length, ALL_RULES.length, "a rule is listed twice");
    for (const rule of ALL_RULES) {
      const row = byId.get(rule.id)!;
      assert.equal(
        row[1],
        rule.findings.length > 0 ? rule.findings.join(", ") : "–",
        `findings of ${rule.id}`,
      );
      assert.equal(row.length, 6, `${rule.id}: one cell per tool`);
    }
  });

  it("every rule id the coverage document names exists", () => {
    const known = new Set(ALL_RULES.map((r) => r.id));
    const named = [
      ...handWritten(fs.readFileSync(COVERAGE, "utf8")).matchAll(/`([a-z][a-z0-9]*(?:-[a-z0-9]+)+)`/g),
    ].map((m) => m[1]!);
    assert.ok(named.length >= ALL_RULES.length);
    assert.deepEqual([...new Set(named.filter((id) => !known.has(id)))], []);
  });

  it("the findings × tools table has one row per finding F1-F24, in order", () => {
    const table = rows(fs.readFileSync(COVERAGE, "utf8"), "## Findings × tools");
    assert.deepEqual(
      table.map((r) => r[0]!.split(" ")[0]),
      FINDINGS.map(([id]) => id),
    );
    assert.ok(
      table.every((r) => r.length === 6),
      "one cell per tool plus the keel-only column",
    );
  });
});

import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { INPUT_RULES } from "../src/cli/input-findings";
import { ALL_RULES } from "../src/registry";
import { PACK_DIR } from "./helpers";

/**
 * The real-world regression set (issue #17): every folder of test/real-world/ holds manifests written from a
 * pattern seen in public repositories plus expected.json:
 *   { "about": "...", "rules": ["rule-id", ...], "config": "optional file in the folder",
 *     "findings": [{ "rule", "level", "kind", "namespace", "name", "message"?: "substring" }] }
 * The folder is audited as a user does, `npm run -s audit -- --format json [--config <file>] <folder>`; the
 * findings of the listed rules must equal `findings` (a multiset of rule, level, kind, namespace, name; a
 * `message` must be a substring of the matching finding's), and the exit status must be 1 exactly when some
 * finding (of any rule) is mandatory, never 2.
 */
const REAL_WORLD = path.join(PACK_DIR, "test", "real-world");
const LEVELS = ["mandatory", "advisory", "exempt"];
const KNOWN_RULES = new Set([...ALL_RULES.map((r) => r.id), ...Object.keys(INPUT_RULES)]);

interface Finding {
  rule: string;
  level: string;
  kind: string;
  namespace: string;
  name: string;
  message?: string;
}

interface Expected {
  about: string;
  rules: string[];
  config?: string;
  findings: Finding[];
}

interface AuditRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Problems with a folder's expected.json (empty when it is valid). */
export function validateExpected(folder: string, value: unknown): string[] {
  const problems: string[] = [];
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isRecord(value)) {
    return ["expected.json must be a JSON object"];
  }
  const extra = Object.keys(value).filter((k) => !["about", "rules", "config", "findings"].includes(k));
  if (extra.length > 0) {
    problems.push(`unknown keys ${extra.join(", ")}`);
  }
  if (typeof value.about !== "string" || value.about.trim().length < 20) {
    problems.push(
      "'about' must say in a sentence which real-world pattern and which issue #17 class the folder covers",
    );
  }
  const rules = value.rules;
  if (!Array.isArray(rules) || rules.length === 0 || !rules.every((r) => typeof r === "string")) {
    problems.push("'rules' must be a non-empty list of rule ids");
  } else {
    problems.push(
      ...rules.filter((r) => !KNOWN_RULES.has(r)).map((r) => `unknown rule id '${r}' in 'rules'`),
    );
  }
  if (
    value.config !== undefined &&
    (typeof value.config !== "string" || !fs.existsSync(path.join(folder, value.config)))
  ) {
    problems.push(`'config' must name a file in the folder (${String(value.config)})`);
  }
  if (!Array.isArray(value.findings)) {
    problems.push("'findings' must be a list");
    return problems;
  }
  value.findings.forEach((f: unknown, i: number) => {
    if (!isRecord(f)) {
      problems.push(`findings[${i}] must be an object`);
      return;
    }
    for (const key of ["rule", "level", "kind", "namespace", "name"]) {
      if (typeof f[key] !== "string") {
        problems.push(`findings[${i}].${key} must be a string`);
      }
    }
    if (f.message !== undefined && (typeof f.message !== "string" || f.message === "")) {
      problems.push(`findings[${i}].message must be a non-empty string when given`);
    }
    if (!LEVELS.includes(f.level as string)) {
      problems.push(`findings[${i}].level must be one of ${LEVELS.join(", ")}`);
    }
    if (Array.isArray(rules) && !rules.includes(f.rule)) {
      problems.push(
        `findings[${i}].rule '${String(f.rule)}' is not in 'rules', so it would never be compared`,
      );
    }
    const unknown = Object.keys(f).filter(
      (k) => !["rule", "level", "kind", "namespace", "name", "message"].includes(k),
    );
    if (unknown.length > 0) {
      problems.push(`findings[${i}] has unknown keys ${unknown.join(", ")}`);
    }
  });
  return problems;
}

const key = (f: Finding) => `${f.rule} ${f.level} ${f.kind} ${f.namespace}/${f.name}`;

/**
 * Pairs expected and actual findings with the same key (expected ones with a message first, each taking an
 * actual one whose message contains it); returns what is left unpaired on either side.
 */
export function compareFindings(
  expected: readonly Finding[],
  actual: readonly Finding[],
): { missing: Finding[]; unexpected: Finding[] } {
  const left = [...actual];
  const missing: Finding[] = [];
  const ordered = [...expected].sort(
    (a, b) => Number(b.message !== undefined) - Number(a.message !== undefined),
  );
  for (const e of ordered) {
    const i = left.findIndex(
      (a) => key(a) === key(e) && (e.message === undefined || (a.message ?? "").includes(e.message)),
    );
    if (i < 0) {
      missing.push(e);
    } else {
      left.splice(i, 1);
    }
  }
  return { missing, unexpected: left };
}

function folders(): string[] {
  if (!fs.existsSync(REAL_WORLD)) {
    return [];
  }
  return fs
    .readdirSync(REAL_WORLD, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** `npm run -s audit -- ...` in the pack, as a user runs it; under `npm test` npm_execpath is npm's own CLI. */
function npmAudit(args: readonly string[]): Promise<AuditRun> {
  const npmCli = process.env.npm_execpath;
  const [command, prefix] =
    npmCli && /npm-cli\.js$/.test(npmCli) ? [process.execPath, [npmCli]] : ["npm", []];
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, "run", "-s", "audit", "--", ...args], { cwd: PACK_DIR });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs the folders' audits a few at a time (each is an npm start of most of a second). */
async function runAll(
  names: readonly string[],
  argsOf: (name: string) => string[] | undefined,
): Promise<Map<string, AuditRun>> {
  const runs = new Map<string, AuditRun>();
  const queue = names.filter((n) => argsOf(n) !== undefined);
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      runs.set(name, await npmAudit(argsOf(name)!));
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return runs;
}

describe("real-world regression set (test/real-world/*/, through npm run audit)", () => {
  const names = folders();
  const expectations = new Map<string, { expected?: Expected; problems: string[] }>();
  for (const name of names) {
    const folder = path.join(REAL_WORLD, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(path.join(folder, "expected.json"), "utf8"));
    } catch (err) {
      expectations.set(name, { problems: [`cannot read expected.json: ${(err as Error).message}`] });
      continue;
    }
    const problems = validateExpected(folder, parsed);
    expectations.set(name, problems.length === 0 ? { expected: parsed as Expected, problems } : { problems });
  }
  let runs = new Map<string, AuditRun>();

  before(async function () {
    this.timeout(300000);
    runs = await runAll(names, (name) => {
      const expected = expectations.get(name)!.expected;
      if (!expected) {
        return undefined;
      }
      const folder = path.join("test", "real-world", name);
      return [
        "--format",
        "json",
        ...(expected.config ? ["--config", path.join(folder, expected.config)] : []),
        folder,
      ];
    });
  });

  it("has folders for the robustness classes (and picks up every other folder)", () => {
    for (const prefix of ["robust-bad-yaml", "robust-duplicate-key", "robust-helm-chart"]) {
      assert.ok(names.includes(prefix), `test/real-world/${prefix}/ is missing`);
    }
  });

  for (const name of names) {
    describe(name, () => {
      it("has a valid expected.json", () => {
        assert.deepEqual(expectations.get(name)!.problems, []);
      });

      it("the audit reports exactly the expected findings of the listed rules, exit 1 iff one is mandatory", function () {
        const expected = expectations.get(name)!.expected;
        if (!expected) {
          this.skip();
        }
        const run = runs.get(name)!;
        assert.notEqual(run.status, 2, `audit exited 2: ${run.stderr}`);
        let entries: Finding[];
        try {
          entries = JSON.parse(run.stdout) as Finding[];
        } catch {
          assert.fail(
            `audit printed no JSON (exit ${run.status}): ${run.stdout.slice(0, 500)} ${run.stderr.slice(0, 2000)}`,
          );
        }
        const actual = entries.filter((e) => expected.rules.includes(e.rule));
        const { missing, unexpected } = compareFindings(expected.findings, actual);
        assert.deepEqual(
          { missing, unexpected },
          { missing: [], unexpected: [] },
          `${name}: ${expected.about}`,
        );
        const mandatory = entries.some((e) => e.level === "mandatory");
        assert.equal(
          run.status,
          mandatory ? 1 : 0,
          `exit status with${mandatory ? "" : " no"} mandatory finding`,
        );
      });
    });
  }
});

describe("real-world runner: comparing findings", () => {
  const f = (name: string, message?: string): Finding => ({
    rule: "r",
    level: "mandatory",
    kind: "ConfigMap",
    namespace: "ns",
    name,
    ...(message ? { message } : {}),
  });

  it("pairs findings as a multiset: a finding expected once but reported twice is unexpected", () => {
    assert.deepEqual(compareFindings([f("a")], [f("a", "x"), f("a", "y")]), {
      missing: [],
      unexpected: [f("a", "y")],
    });
  });

  it("requires each expected message to be a substring of its own finding's message", () => {
    assert.deepEqual(
      compareFindings([f("a"), f("a", "second")], [f("a", "the second one"), f("a", "the first one")]),
      { missing: [], unexpected: [] },
    );
    assert.deepEqual(compareFindings([f("a", "third")], [f("a", "the first one")]), {
      missing: [f("a", "third")],
      unexpected: [f("a", "the first one")],
    });
  });

  it("rejects an expected.json with an unknown rule, a finding of an unlisted rule, a bad level or no about", () => {
    assert.deepEqual(
      validateExpected(REAL_WORLD, {
        about: "x",
        rules: ["no-such-rule"],
        findings: [{ rule: "yaml-parse", level: "fatal", kind: "File", namespace: "", name: "a" }],
      }),
      [
        "'about' must say in a sentence which real-world pattern and which issue #17 class the folder covers",
        "unknown rule id 'no-such-rule' in 'rules'",
        "findings[0].level must be one of mandatory, advisory, exempt",
        "findings[0].rule 'yaml-parse' is not in 'rules', so it would never be compared",
      ],
    );
    assert.deepEqual(
      validateExpected(REAL_WORLD, {
        about: "a pattern seen in real charts (issue #17)",
        rules: ["yaml-parse"],
        findings: [],
      }),
      [],
    );
  });
});

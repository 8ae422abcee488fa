import { strict as assert } from "assert";
import { ALL_RULES } from "../../src/registry";
import { Seen, findingsOf, hardened, hardenedConfig } from "../helpers";
import { CASES, Expected, RuleCase } from "./cases";
import { MISS_CASES } from "./miss-cases";
import { STACK_CASES } from "./stack-cases";
import { KUBE_SCORE_CASES } from "./kube-score-cases";

function comparable(items: Array<Seen | Expected>, defaultLevel: string): string[] {
  return items.map((i) => `${i.level ?? defaultLevel} | ${i.kind} | ${i.name} | ${i.message}`).sort();
}

function run(c: RuleCase): void {
  const rule = ALL_RULES.find((r) => r.id === c.rule);
  assert.ok(rule, `unknown rule ${c.rule}`);
  const objects = c.base ? c.base() : hardened();
  c.mutate(objects);
  const seen = findingsOf(c.rule, objects, c.config ?? hardenedConfig);
  assert.deepEqual(comparable(seen, rule!.defaultLevel), comparable(c.expect, rule!.defaultLevel));
}

describe("rules", () => {
  const cases = [...CASES, ...STACK_CASES, ...KUBE_SCORE_CASES, ...MISS_CASES];
  for (const rule of ALL_RULES) {
    describe(rule.id, () => {
      it("reports no violation on the hardened manifest set (compliant)", () => {
        const violations = findingsOf(rule.id, hardened()).filter((f) => f.level !== "exempt");
        assert.deepEqual(violations, []);
      });
      const own = cases.filter((c) => c.rule === rule.id);
      it("has at least one non-compliant case", () => {
        assert.ok(
          own.some((c) => c.expect.some((e) => (e.level ?? rule.defaultLevel) !== "exempt")),
          `no failing case for ${rule.id}`,
        );
      });
      for (const c of own) {
        it(c.title, () => run(c));
      }
    });
  }
});

import { EXEMPTION_PREFIX } from "../core/exemptions";
import { NO_CONFIG, Violation, resourceRule } from "../core/rule";
import { perEntry } from "../core/unknown";

/** F23: an exception is documented, not a silent hole. */
export const exemptionHasReason = resourceRule({
  id: "exemption-has-reason",
  findings: ["F23"],
  description:
    "Every exempt.keel.dev/<rule-id> annotation gives a non-empty reason and names an existing rule.",
  fix: "write the reason in the annotation value (or remove it)",
  defaultLevel: "mandatory",
  config: NO_CONFIG,
  check(obj, _settings, ctx) {
    return perEntry<unknown>(
      () => obj.metadata?.annotations,
      (key, value) => {
        if (!key.startsWith(EXEMPTION_PREFIX)) {
          return [];
        }
        const ruleId = key.slice(EXEMPTION_PREFIX.length);
        const reason = typeof value === "string" ? value : String(value ?? "");
        const messages: Array<string | Violation> = [];
        if (reason.trim() === "") {
          messages.push(
            `annotation ${key} has an empty reason, so it exempts nothing: write why rule '${ruleId}' does not apply here, or remove the annotation`,
          );
        }
        if (!ctx.knownRuleIds.has(ruleId)) {
          messages.push({
            message: `annotation ${key} names no known rule: fix the rule id or remove the annotation`,
            advisoryOnly: true,
          });
        }
        return messages;
      },
    );
  },
});

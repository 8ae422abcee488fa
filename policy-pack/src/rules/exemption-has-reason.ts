import { annotationsOf } from "../core/k8s";
import { EXEMPTION_PREFIX, exemptionsIn } from "../core/exemptions";
import { NO_CONFIG, resourceRule } from "../core/rule";

/** F23: an exception is documented, not a silent hole. */
export const exemptionHasReason = resourceRule({
    id: "exemption-has-reason",
    findings: ["F23"],
    description: "Every exempt.keel.dev/<rule-id> annotation gives a non-empty reason and names an existing rule.",
    defaultLevel: "mandatory",
    config: NO_CONFIG,
    check(obj, _settings, ctx) {
        const messages: Array<string | { message: string; advisoryOnly: boolean }> = [];
        for (const [ruleId, reason] of exemptionsIn(annotationsOf(obj))) {
            const key = `${EXEMPTION_PREFIX}${ruleId}`;
            if (reason.trim() === "") {
                messages.push(`annotation ${key} has an empty reason, so it exempts nothing: write why rule '${ruleId}' does not apply here, or remove the annotation`);
            }
            if (!ctx.knownRuleIds.has(ruleId)) {
                messages.push({ message: `annotation ${key} names no known rule: fix the rule id or remove the annotation`, advisoryOnly: true });
            }
        }
        return messages;
    },
});

import { settingsFor, enforcementLevelFor, PolicyConfigFile } from "./config";
import { findExemption, EXEMPTION_PREFIX } from "./exemptions";
import type { Finding, FindingLevel } from "./finding";
import { K8sObject, annotationsOf } from "./k8s";
import type { Level, ResourceRule, Rule, RuleContext, StackRule, Violation } from "./rule";
import { StackIndex } from "./stack-index";
import { CANNOT_CHECK, cannotCheckMessage, isUnknownValueError, readOr } from "./unknown";

/**
 * Runs one rule over a stack and turns its violations into findings: applies the rule's level and the
 * exemption annotations. Rules check containers, list elements and map entries one at a time, so a value
 * unknown at preview is one advisory about that value (the same value is reported once per object) while
 * the definite violations found elsewhere in the object stand; a value a rule reads before it can split the
 * object into parts (e.g. the whole pod spec) is one advisory for the object.
 */
export function evaluateRule(
  rule: Rule,
  stack: StackIndex,
  settings: object,
  level: Level,
  ctx: RuleContext,
): Finding[] {
  const violations = dedupeUnknown(
    rule.scope === "resource"
      ? runResourceRule(rule, stack, settings, ctx)
      : runStackRule(rule, stack, settings, ctx),
  );
  const findings: Finding[] = [];
  const usedExemptions = new Set<string>();
  for (const v of violations) {
    const subject = v.subject;
    const namespace = subject ? stack.namespaceOf(subject) : "";
    const exemption = findExemption(rule.id, subject, namespace, (ns) => stack.namespaceAnnotations(ns));
    let findingLevel: FindingLevel = v.advisoryOnly ? "advisory" : level;
    let message = v.message;
    if (exemption) {
      usedExemptions.add(
        exemption.source === "object" ? `object:${objectKey(stack, subject)}` : `namespace:${namespace}`,
      );
      findingLevel = "exempt";
      message = `exempted (${exemption.reason}) on ${exemption.source === "object" ? "the object" : exemption.source}: ${message}`;
    }
    findings.push(toFinding(rule.id, findingLevel, stack, subject, message));
  }
  findings.push(...unusedExemptionNotes(rule.id, stack, usedExemptions));
  return findings;
}

/** Evaluates every enabled rule with the levels and settings of a policy config. */
export function evaluateAll(
  objects: readonly K8sObject[],
  rules: readonly Rule[],
  config: PolicyConfigFile = {},
  ctx: RuleContext = { knownRuleIds: new Set(rules.map((r) => r.id)) },
): Finding[] {
  const stack = new StackIndex(objects);
  const findings: Finding[] = [];
  for (const rule of rules) {
    const level = enforcementLevelFor(rule, config);
    if (level === "disabled") {
      continue;
    }
    findings.push(...evaluateRule(rule, stack, settingsFor(rule, config), level, ctx));
  }
  return findings;
}

function runResourceRule(
  rule: ResourceRule<object>,
  stack: StackIndex,
  settings: object,
  ctx: RuleContext,
): Violation[] {
  const targets = rule.kinds ? [...rule.kinds].flatMap((kind) => stack.ofKind(kind)) : stack.objects;
  const violations: Violation[] = [];
  ctx = { ...ctx, stack, isClusterScoped: (obj) => stack.isClusterScoped(obj) };
  for (const obj of targets) {
    try {
      for (const v of rule.check(obj, settings, ctx)) {
        violations.push(
          typeof v === "string" ? { message: v, subject: obj } : { ...v, subject: v.subject ?? obj },
        );
      }
    } catch (err) {
      if (!isUnknownValueError(err)) {
        throw err;
      }
      violations.push({ message: cannotCheckMessage(err), subject: obj, advisoryOnly: true });
    }
  }
  return violations;
}

/** Keeps the first of identical "cannot check" notes about the same object. */
function dedupeUnknown(violations: Violation[]): Violation[] {
  const seen = new Map<K8sObject | undefined, Set<string>>();
  return violations.filter((v) => {
    if (!v.advisoryOnly || !v.message.startsWith(CANNOT_CHECK)) {
      return true;
    }
    const messages = seen.get(v.subject) ?? new Set<string>();
    seen.set(v.subject, messages);
    if (messages.has(v.message)) {
      return false;
    }
    messages.add(v.message);
    return true;
  });
}

function runStackRule(
  rule: StackRule<object>,
  stack: StackIndex,
  settings: object,
  ctx: RuleContext,
): Violation[] {
  try {
    return rule.check(stack, settings, ctx);
  } catch (err) {
    if (!isUnknownValueError(err)) {
      throw err;
    }
    return [{ message: cannotCheckMessage(err), advisoryOnly: true }];
  }
}

/** Exemptions for this rule that switched nothing off: listed so that every exemption shows in reports. */
function unusedExemptionNotes(ruleId: string, stack: StackIndex, used: ReadonlySet<string>): Finding[] {
  const key = EXEMPTION_PREFIX + ruleId;
  const notes: Finding[] = [];
  for (const obj of stack.objects) {
    const reason = readOr(() => annotationsOf(obj)[key], undefined);
    if (typeof reason !== "string" || reason.trim() === "") {
      continue;
    }
    const isNamespace = stack.kindOf(obj) === "Namespace";
    const usedKey = isNamespace ? `namespace:${stack.nameOf(obj)}` : `object:${objectKey(stack, obj)}`;
    if (!used.has(usedKey) && !(isNamespace && used.has(`object:${objectKey(stack, obj)}`))) {
      notes.push(
        toFinding(
          ruleId,
          "exempt",
          stack,
          obj,
          `exempted (${reason.trim()})${isNamespace ? " for the whole namespace" : ""}; the rule reports nothing here at the moment`,
        ),
      );
    }
  }
  return notes;
}

function objectKey(stack: StackIndex, obj: K8sObject | undefined): string {
  return obj ? `${stack.kindOf(obj)}/${stack.namespaceOf(obj)}/${stack.nameOf(obj)}` : "";
}

function toFinding(
  rule: string,
  level: FindingLevel,
  stack: StackIndex,
  subject: K8sObject | undefined,
  message: string,
): Finding {
  return {
    rule,
    level,
    kind: subject ? stack.kindOf(subject) : "Stack",
    namespace: subject ? stack.namespaceOf(subject) : "",
    name: subject ? stack.nameOf(subject) : "",
    message,
    subject,
  };
}

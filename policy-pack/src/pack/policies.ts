import type { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { mergeSettings } from "../core/config";
import type { Finding } from "../core/finding";
import { evaluateRule } from "../core/evaluate";
import type { K8sObject } from "../core/k8s";
import type { Rule, RuleContext } from "../core/rule";
import { ALL_RULES } from "../registry";
import { EngineResource, toK8sObject } from "./resource-conversion";
import { SharedStack } from "./shared-analysis";

/**
 * @pulumi/policy 1.21's reportViolation also accepts an object whose enforcementLevel overrides the policy's
 * (server.js makeReportViolationFun). It is how advisory notes (exemptions, values unknown at preview) leave a
 * mandatory policy without failing the preview.
 */
interface ViolationDetails {
  message: string;
  urn?: string;
  enforcementLevel: "advisory";
}

export interface KubernetesStack {
  objects: K8sObject[];
  urns: Map<K8sObject, string>;
}

export function kubernetesObjects(resources: readonly EngineResource[]): KubernetesStack {
  const objects: K8sObject[] = [];
  const urns = new Map<K8sObject, string>();
  for (const resource of resources) {
    const obj = toK8sObject(resource);
    if (obj) {
      objects.push(obj);
      urns.set(obj, resource.urn);
    }
  }
  return { objects, urns };
}

/** Sends findings to the engine: violations at the policy's level, notes as advisory. */
export function reportFindings(
  findings: readonly Finding[],
  urns: ReadonlyMap<K8sObject, string>,
  report: ReportViolation,
): void {
  for (const finding of findings) {
    const urn = finding.subject ? urns.get(finding.subject) : undefined;
    const where =
      finding.subject && !urn
        ? `${finding.kind} ${finding.namespace ? `${finding.namespace}/` : ""}${finding.name}: `
        : "";
    if (finding.level === "mandatory") {
      report(`${where}${finding.message}`, urn);
    } else {
      const note: ViolationDetails = {
        message: `${finding.level === "exempt" ? "[exempt] " : ""}${where}${finding.message}`,
        urn,
        enforcementLevel: "advisory",
      };
      (report as unknown as (details: ViolationDetails) => void)(note);
    }
  }
}

/**
 * One CrossGuard stack policy per rule, so levels and settings are configured per rule id. The policies of
 * one AnalyzeStack call share one conversion of the stack (see shared-analysis.ts).
 */
export function buildPolicies(
  rules: readonly Rule[] = ALL_RULES,
  shared = new SharedStack(kubernetesObjects),
): StackValidationPolicy[] {
  const ctx: RuleContext = { knownRuleIds: new Set(rules.map((r) => r.id)) };
  return rules.map((rule) => {
    const policy: StackValidationPolicy = {
      name: rule.id,
      description:
        rule.findings.length > 0 ? `${rule.description} [${rule.findings.join(", ")}]` : rule.description,
      enforcementLevel: rule.defaultLevel,
      validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const { index, urns } = shared.get(args.resources);
        const settings = mergeSettings(
          rule.config.defaults,
          rule.config.schema,
          args.getConfig<Record<string, unknown>>(),
        );
        // "mandatory" stands for "the level the engine resolved for this policy" (see reportFindings).
        reportFindings(evaluateRule(rule, index, settings, "mandatory", ctx), urns, report);
      },
    };
    if (Object.keys(rule.config.schema).length > 0) {
      policy.configSchema = { properties: rule.config.schema };
    }
    return policy;
  });
}

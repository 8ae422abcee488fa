import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import type { K8sObject } from "./k8s";
import type { StackIndex } from "./stack-index";

/** How a violation is enforced: mandatory ones fail `pulumi preview` and the audit command. */
export type Level = "mandatory" | "advisory";
export type EnforcementLevel = Level | "disabled";

/** A problem a rule found. `subject` is the object to fix (stack rules name it; resource rules get it implicitly). */
export interface Violation {
  message: string;
  subject?: K8sObject;
  /** Forces advisory whatever the rule's level (e.g. a heuristic or a value unknown at preview). */
  advisoryOnly?: boolean;
}

export interface RuleContext {
  /** Every rule id the pack knows (for exemption annotations that name a rule). */
  knownRuleIds: ReadonlySet<string>;
  /** Whether an object's kind is cluster-scoped, CRDs of the stack included (set by the evaluator). */
  isClusterScoped?: (obj: K8sObject) => boolean;
  /** The whole stack, for resource rules whose answer depends on other objects (set by the evaluator). */
  stack?: StackIndex;
}

interface RuleBase<C extends object> {
  /** Stable kebab-case id: the CrossGuard policy name, the JSON `rule` and the exemption key. */
  id: string;
  /** Audit findings (F1..F23) this rule covers; empty for general hardening rules. */
  findings: string[];
  description: string;
  /** What to change, in a few words (the README's "how to fix" column; messages give the details). */
  fix: string;
  defaultLevel: Level;
  /** Per-stack tunables: JSON schema for CrossGuard's configSchema plus the defaults. */
  config: { schema: Record<string, PolicyConfigJSONSchema>; defaults: C };
}

/** A rule over one object at a time. `kinds` limits it to those kinds (all kinds when absent). */
export interface ResourceRule<C extends object = object> extends RuleBase<C> {
  scope: "resource";
  kinds?: ReadonlySet<string>;
  check(obj: K8sObject, config: C, ctx: RuleContext): Array<string | Violation>;
}

/** A rule over every object of the stack, through an index built once. */
export interface StackRule<C extends object = object> extends RuleBase<C> {
  scope: "stack";
  check(stack: StackIndex, config: C, ctx: RuleContext): Violation[];
}

export type Rule = ResourceRule<object> | StackRule<object>;

export const NO_CONFIG: { schema: Record<string, PolicyConfigJSONSchema>; defaults: Record<string, never> } =
  {
    schema: {},
    defaults: {},
  };

/** Identity helpers that keep each rule file's config type checked. */
export function resourceRule<C extends object>(rule: Omit<ResourceRule<C>, "scope">): ResourceRule<C> {
  return { scope: "resource", ...rule };
}

export function stackRule<C extends object>(rule: Omit<StackRule<C>, "scope">): StackRule<C> {
  return { scope: "stack", ...rule };
}

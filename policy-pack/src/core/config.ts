import { isRecord } from "./k8s";
import type { EnforcementLevel, Rule } from "./rule";

/**
 * Policy configuration in the format of `pulumi preview --policy-pack-config <file>`:
 * `{ "all": "advisory", "<rule-id>": "mandatory" | { "enforcementLevel": "...", "<key>": value } }`.
 * The audit command reads the same file with `--config`.
 */
export type PolicyConfigFile = Record<string, unknown>;

const LEVELS: ReadonlySet<string> = new Set(["mandatory", "advisory", "disabled"]);

function levelIn(entry: unknown): EnforcementLevel | undefined {
  if (typeof entry === "string" && LEVELS.has(entry)) {
    return entry as EnforcementLevel;
  }
  if (isRecord(entry) && typeof entry.enforcementLevel === "string" && LEVELS.has(entry.enforcementLevel)) {
    return entry.enforcementLevel as EnforcementLevel;
  }
  return undefined;
}

/** A rule's level: its own entry, else `all`, else the rule's default. */
export function enforcementLevelFor(rule: Rule, config: PolicyConfigFile): EnforcementLevel {
  return levelIn(config[rule.id]) ?? levelIn(config.all) ?? rule.defaultLevel;
}

/** A rule's settings: its defaults overridden by the keys of its entry that its schema declares. */
export function settingsFor<C extends object>(
  rule: { id: string; config: { schema: object; defaults: C } },
  config: PolicyConfigFile,
): C {
  return mergeSettings(rule.config.defaults, rule.config.schema, config[rule.id]);
}

export function mergeSettings<C extends object>(defaults: C, schema: object, entry: unknown): C {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  if (isRecord(entry)) {
    for (const key of Object.keys(schema)) {
      if (entry[key] !== undefined) {
        merged[key] = entry[key];
      }
    }
  }
  return merged as C;
}

/** Problems in a config file: unknown rule ids, bad levels, keys a rule does not declare. */
export function validateConfig(config: PolicyConfigFile, rules: readonly Rule[]): string[] {
  const byId = new Map(rules.map((r) => [r.id, r] as const));
  const problems: string[] = [];
  for (const [id, entry] of Object.entries(config)) {
    const rule = byId.get(id);
    if (id !== "all" && !rule) {
      problems.push(`unknown rule id '${id}'`);
      continue;
    }
    if (typeof entry === "string") {
      if (!LEVELS.has(entry)) {
        problems.push(`'${id}': enforcement level must be mandatory, advisory or disabled, not '${entry}'`);
      }
      continue;
    }
    if (!isRecord(entry)) {
      problems.push(`'${id}': expected an enforcement level or an object`);
      continue;
    }
    for (const key of Object.keys(entry)) {
      if (key === "enforcementLevel") {
        if (!LEVELS.has(String(entry[key]))) {
          problems.push(
            `'${id}': enforcement level must be mandatory, advisory or disabled, not '${String(entry[key])}'`,
          );
        }
      } else if (!rule || !(key in rule.config.schema)) {
        problems.push(`'${id}': unknown setting '${key}'`);
      }
    }
  }
  return problems;
}

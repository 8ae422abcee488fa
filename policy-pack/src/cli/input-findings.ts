/**
 * Findings about the audit's input itself: files it cannot read as manifests. They are not rules of the pack
 * (CrossGuard hands the pack objects, never YAML), so they are not in the registry, have no settings and cannot
 * be exempted: an unreadable file carries no annotations, and a level in the config could let an audit pass over
 * files it never read.
 */
export const INPUT_RULES = {
  "yaml-parse": {
    level: "mandatory",
    description: "A YAML or JSON document that cannot be parsed, or a mapping with a duplicate key.",
    fix: "fix the syntax at the line given; remove the duplicate key",
  },
  "helm-unrendered": {
    level: "advisory",
    description:
      "Helm chart templates (a chart's templates/ folder, .tpl files, files with {{ .Values ... }} actions) are not audited.",
    fix: "render the chart and audit the output: helm template <release> <chart> | keel-audit -",
  },
} as const;

export type InputRuleId = keyof typeof INPUT_RULES;

export interface InputFinding {
  rule: InputRuleId;
  /** `File` for a file or document, `HelmChart` for a chart's templates. */
  kind: "File" | "HelmChart";
  /** The file's path relative to the folder given (or as given), or the chart's name. */
  name: string;
  message: string;
  file: string;
  document?: number;
  /** 1-based. */
  line?: number;
}

export function isInputRuleId(id: string): id is InputRuleId {
  return Object.prototype.hasOwnProperty.call(INPUT_RULES, id);
}

import type { Finding } from "../core/finding";
import type { K8sObject } from "../core/k8s";
import { INPUT_RULES, InputFinding } from "./input-findings";
import type { SourceLocation } from "./load-manifests";

export interface ReportEntry {
  rule: string;
  level: Finding["level"];
  kind: string;
  namespace: string;
  name: string;
  message: string;
  file?: string;
  document?: number;
  /** 1-based: where the object's document starts, or where the input problem is. */
  line?: number;
}

export function toEntries(
  findings: readonly Finding[],
  sources: ReadonlyMap<K8sObject, SourceLocation>,
): ReportEntry[] {
  return findings.map((f) => {
    const source = f.subject ? sources.get(f.subject) : undefined;
    const entry: ReportEntry = {
      rule: f.rule,
      level: f.level,
      kind: f.kind,
      namespace: f.namespace,
      name: f.name,
      message: f.message,
    };
    if (source) {
      entry.file = source.file;
      entry.document = source.document;
      entry.line = source.line;
    }
    return entry;
  });
}

/** Entries for what could not be audited (`yaml-parse`, `helm-unrendered`), at their fixed levels. */
export function inputEntries(problems: readonly InputFinding[]): ReportEntry[] {
  return problems.map((p) => {
    const entry: ReportEntry = {
      rule: p.rule,
      level: INPUT_RULES[p.rule].level,
      kind: p.kind,
      namespace: "",
      name: p.name,
      message: p.message,
      file: p.file,
    };
    if (p.document !== undefined) {
      entry.document = p.document;
    }
    if (p.line !== undefined) {
      entry.line = p.line;
    }
    return entry;
  });
}

const ORDER: Record<Finding["level"], number> = { mandatory: 0, advisory: 1, exempt: 2 };

function target(e: ReportEntry): string {
  if (e.kind === "Stack") {
    return "stack";
  }
  if (e.kind === "File") {
    return "file";
  }
  return `${e.kind} ${e.namespace && e.kind !== "Namespace" ? `${e.namespace}/` : ""}${e.name}`;
}

function where(e: ReportEntry): string {
  if (e.file === undefined) {
    return "";
  }
  if (e.kind === "File" || e.kind === "HelmChart") {
    return e.line !== undefined ? ` (${e.file}:${e.line})` : ` (${e.file})`;
  }
  return ` (${e.file}#${e.document})`;
}

export function formatText(entries: readonly ReportEntry[], objectCount: number): string {
  const sorted = [...entries].sort(
    (a, b) =>
      ORDER[a.level] - ORDER[b.level] ||
      a.rule.localeCompare(b.rule) ||
      a.namespace.localeCompare(b.namespace) ||
      a.name.localeCompare(b.name),
  );
  const lines = sorted.map(
    (e) => `${e.level.toUpperCase().padEnd(9)} ${e.rule.padEnd(32)} ${target(e)}${where(e)}: ${e.message}`,
  );
  const count = (level: Finding["level"]) => entries.filter((e) => e.level === level).length;
  lines.push(
    `${count("mandatory")} mandatory, ${count("advisory")} advisory, ${count("exempt")} exempt in ${objectCount} objects`,
  );
  return lines.join("\n") + "\n";
}

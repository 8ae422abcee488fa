import type { Finding } from "../core/finding";
import type { K8sObject } from "../core/k8s";
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
}

export function toEntries(findings: readonly Finding[], sources: ReadonlyMap<K8sObject, SourceLocation>): ReportEntry[] {
    return findings.map(f => {
        const source = f.subject ? sources.get(f.subject) : undefined;
        const entry: ReportEntry = { rule: f.rule, level: f.level, kind: f.kind, namespace: f.namespace, name: f.name, message: f.message };
        if (source) {
            entry.file = source.file;
            entry.document = source.document;
        }
        return entry;
    });
}

const ORDER: Record<Finding["level"], number> = { mandatory: 0, advisory: 1, exempt: 2 };

export function formatText(entries: readonly ReportEntry[], objectCount: number): string {
    const sorted = [...entries].sort((a, b) => ORDER[a.level] - ORDER[b.level]
        || a.rule.localeCompare(b.rule) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    const lines = sorted.map(e => {
        const target = e.kind === "Stack" ? "stack" : `${e.kind} ${e.namespace && e.kind !== "Namespace" ? `${e.namespace}/` : ""}${e.name}`;
        const where = e.file !== undefined ? ` (${e.file}#${e.document})` : "";
        return `${e.level.toUpperCase().padEnd(9)} ${e.rule.padEnd(32)} ${target}${where}: ${e.message}`;
    });
    const count = (level: Finding["level"]) => entries.filter(e => e.level === level).length;
    lines.push(`${count("mandatory")} mandatory, ${count("advisory")} advisory, ${count("exempt")} exempt in ${objectCount} objects`);
    return lines.join("\n") + "\n";
}

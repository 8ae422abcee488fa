type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Sorts object keys recursively so the same settings always render the same bytes (no false diffs). */
function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

/** Deterministic JSON. */
export function stableJson(value: Json): string {
  return JSON.stringify(sortKeys(value), null, 2) + "\n";
}

function scalar(v: Json): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function isEmpty(v: Json): boolean {
  return (
    (Array.isArray(v) && v.length === 0) ||
    (v !== null && typeof v === "object" && Object.keys(v).length === 0)
  );
}

function yamlLines(value: Json, indent: number): string[] {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (item === null || typeof item !== "object" || isEmpty(item)) {
        return [`${pad}- ${isEmpty(item) ? (Array.isArray(item) ? "[]" : "{}") : scalar(item)}`];
      }
      const nested = yamlLines(item, indent + 2);
      return [`${pad}- ${nested[0].trimStart()}`, ...nested.slice(1)];
    });
  }
  if (value !== null && typeof value === "object") {
    return Object.keys(value)
      .sort()
      .flatMap((k) => {
        const v = value[k];
        if (v === null || typeof v !== "object") return [`${pad}${k}: ${scalar(v)}`];
        if (isEmpty(v)) return [`${pad}${k}: ${Array.isArray(v) ? "[]" : "{}"}`];
        return [`${pad}${k}:`, ...yamlLines(v, indent + 2)];
      });
  }
  return [`${pad}${scalar(value)}`];
}

/** Deterministic block YAML (sorted keys, quoted strings): one setting per line, no false diffs. */
export function stableYaml(value: Json): string {
  return yamlLines(value, 0).join("\n") + "\n";
}

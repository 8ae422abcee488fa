import { isRecord } from "../core/k8s";
import { perEntry, readOr } from "../core/unknown";
import { decodeBase64Block } from "../core/secrets";
import { Violation, resourceRule, NO_CONFIG } from "../core/rule";

/** Tokens that installers leave for the user to replace: CHANGE_ME, CHANGE_TO_*, REPLACE_*, YOUR_*_HERE, <your-...>. */
const PLACEHOLDERS: RegExp[] = [
  /\bchange[_-]?me\b/i,
  /\bCHANGE[_-](?:TO|THIS|IT)(?:[_-][A-Z0-9_-]*)?\b/,
  /\bREPLACE(?:[_-][A-Z0-9_-]+|ME)\b/,
  /\b(?:TO[_-]BE[_-]REPLACED|FILL[_-]?ME[_-]?IN|YOUR[_-][A-Z0-9_-]+[_-]HERE)\b/,
  /<\s*(?:your|insert|enter|put)[\s_-][^<>\n]{0,60}>/i,
];

/** Words in a comment-only file that say the real content was meant to be put there. */
const POPULATE_LATER =
  /\b(populated?|replace[ds]?|fill(ed)? in|kubectl create|--from-file|placeholder|todo|will be|paste)\b/i;

/** Seed 003: a ConfigMap or Secret still holding the template's placeholders ships a service that cannot work. */
export const placeholderValue = resourceRule({
  id: "placeholder-value",
  findings: [],
  description:
    "ConfigMap `data` and Secret `data` (decoded from base64) and `stringData` hold no placeholders left to replace " +
    "(`CHANGE_ME`/`changeme`, `CHANGE_TO_*`, `REPLACE_*`, `YOUR_*_HERE`, `<your-...>`) and no configuration file that is only comments. " +
    "A comment-only file is mandatory when its comments say the content comes later (populate, kubectl create --from-file, TODO...), advisory otherwise. " +
    "Tokens that a script of the same object substitutes at run time (`sed`, `envsubst`, `.replace(...)`) are a template's, not placeholders.",
  fix: "put the real value in (credentials from a Secret or a secret manager); embed the real configuration file",
  defaultLevel: "mandatory",
  kinds: new Set(["ConfigMap", "Secret"]),
  config: NO_CONFIG,
  check(obj) {
    const fields = obj.kind === "Secret" ? (["data", "stringData"] as const) : (["data"] as const);
    const values = fields.flatMap((field) =>
      readOr(() => (isRecord(obj[field]) ? Object.values(obj[field]) : []), [])
        .map((raw) => readValue(raw, obj.kind === "Secret" && field === "data"))
        .filter((v): v is string => v !== undefined),
    );
    const substituted = substitutedTokens(values);
    return fields.flatMap((field) =>
      perEntry<unknown>(
        () => obj[field],
        (key, raw) => {
          const value = readValue(raw, obj.kind === "Secret" && field === "data");
          const finding = value === undefined ? undefined : placeholderIn(value, substituted);
          return finding ? [{ ...finding, message: `${field}.${key} ${finding.message}` }] : [];
        },
      ),
    );
  },
});

function readValue(raw: unknown, base64: boolean): string | undefined {
  if (typeof raw !== "string") {
    return undefined;
  }
  if (!base64) {
    return raw;
  }
  const bytes = decodeBase64Block(raw, 4);
  return bytes?.toString("utf8");
}

/** A line that substitutes a placeholder at run time (`sed`, `envsubst`, `.replace(...)`): the token is a template's. */
const SUBSTITUTION = /\b(sed|envsubst|perl|awk|gsub|str_replace|replace_all)\b|\.replace(All)?\(/;

/** Placeholder tokens that the object's own scripts substitute at run time. */
export function substitutedTokens(values: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  const scripts = values.filter((v) => SUBSTITUTION.test(v));
  for (const line of scripts.flatMap((v) => v.split("\n")).filter((l) => SUBSTITUTION.test(l))) {
    for (const pattern of PLACEHOLDERS) {
      const global = new RegExp(
        pattern.source,
        pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`,
      );
      for (const match of line.matchAll(global)) {
        tokens.add(match[0]);
      }
    }
  }
  return tokens;
}

/** The placeholders of a value (except those `substituted` at run time), or a comment-only configuration file. */
export function placeholderIn(
  value: string,
  substituted: ReadonlySet<string> = new Set(),
): Violation | undefined {
  const lines = value.split("\n");
  const found: string[] = [];
  const present = PLACEHOLDERS.filter((pattern) => pattern.test(value)); // most values hold none: one pass each
  lines.forEach((line, i) => {
    for (const pattern of present) {
      const token = pattern.exec(line)?.[0];
      if (token !== undefined && !substituted.has(token) && !found.some((f) => f.startsWith(`'${token}'`))) {
        found.push(value.trim().includes("\n") ? `'${token}' (line ${i + 1})` : `'${token}'`);
      }
    }
  });
  if (found.length > 0) {
    const shown = found.length > 4 ? [...found.slice(0, 4), `${found.length - 4} more`] : found;
    return found.length === 1
      ? {
          message: `holds the placeholder ${found[0]}: replace it with the real value before deploying (a credential from a Secret)`,
        }
      : {
          message: `holds placeholders ${shown.join(", ")}: replace them with the real values before deploying (credentials from a Secret)`,
        };
  }
  const content = lines.map((l) => l.trim()).filter((l) => l !== "");
  if (content.length > 0 && content.every((l) => /^(#|;|\/\/)/.test(l))) {
    return {
      message:
        "holds only comments, so the file mounted from it is empty: embed the real configuration (or remove the entry)",
      advisoryOnly: !POPULATE_LATER.test(value),
    };
  }
  return undefined;
}

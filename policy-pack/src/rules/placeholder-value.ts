import { perEntry } from "../core/unknown";
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
const POPULATE_LATER = /\b(populated?|replace[ds]?|fill(ed)? in|kubectl create|--from-file|placeholder|todo|will be|paste)\b/i;

/** Seed 003: a ConfigMap or Secret still holding the template's placeholders ships a service that cannot work. */
export const placeholderValue = resourceRule({
    id: "placeholder-value",
    findings: [],
    description: "ConfigMap `data` and Secret `data` (decoded from base64) and `stringData` hold no placeholders left to replace "
        + "(`CHANGE_ME`/`changeme`, `CHANGE_TO_*`, `REPLACE_*`, `YOUR_*_HERE`, `<your-...>`) and no configuration file that is only comments. "
        + "A comment-only file is mandatory when its comments say the content comes later (populate, kubectl create --from-file, TODO...), advisory otherwise.",
    fix: "put the real value in (credentials from a Secret or a secret manager); embed the real configuration file",
    defaultLevel: "mandatory",
    kinds: new Set(["ConfigMap", "Secret"]),
    config: NO_CONFIG,
    check(obj) {
        const fields = obj.kind === "Secret" ? (["data", "stringData"] as const) : (["data"] as const);
        return fields.flatMap(field => perEntry<unknown>(() => obj[field], (key, raw) => {
            const value = readValue(raw, obj.kind === "Secret" && field === "data");
            const finding = value === undefined ? undefined : placeholderIn(value);
            return finding ? [{ ...finding, message: `${field}.${key} ${finding.message}` }] : [];
        }));
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

/** The first placeholder of a value, or a comment-only configuration file. */
export function placeholderIn(value: string): Violation | undefined {
    const lines = value.split("\n");
    const found: string[] = [];
    lines.forEach((line, i) => {
        for (const pattern of PLACEHOLDERS) {
            const token = pattern.exec(line)?.[0];
            if (token !== undefined && !found.some(f => f.startsWith(`'${token}'`))) {
                found.push(lines.length > 1 ? `'${token}' (line ${i + 1})` : `'${token}'`);
            }
        }
    });
    if (found.length > 0) {
        const shown = found.length > 4 ? [...found.slice(0, 4), `${found.length - 4} more`] : found;
        return found.length === 1
            ? { message: `holds the placeholder ${found[0]}: replace it with the real value before deploying (a credential from a Secret)` }
            : { message: `holds placeholders ${shown.join(", ")}: replace them with the real values before deploying (credentials from a Secret)` };
    }
    const content = lines.map(l => l.trim()).filter(l => l !== "");
    if (content.length > 0 && content.every(l => /^(#|;|\/\/)/.test(l))) {
        return {
            message: "holds only comments, so the file mounted from it is empty: embed the real configuration (or remove the entry)",
            advisoryOnly: !POPULATE_LATER.test(value),
        };
    }
    return undefined;
}

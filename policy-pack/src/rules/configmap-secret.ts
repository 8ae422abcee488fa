import { dsnPassword, hasPemBlock, isPlaceholderValue, isSecretLikeName, looksLikeKeyMaterial, secretAssignmentsIn } from "../core/secrets";
import { resourceRule } from "../core/rule";
import { perEntry } from "../core/unknown";

interface Settings {
    entropyThreshold: number;
    minKeyLength: number;
}

/** F5/F6: ConfigMaps are readable by anyone with read access to the namespace; credentials belong in Secrets. */
export const configmapSecret = resourceRule<Settings>({
    id: "configmap-secret",
    findings: ["F5", "F6"],
    description: "ConfigMaps carry no passwords, tokens, keys, DSNs with passwords, PEM blocks or high-entropy key material.",
    fix: "move the value to a Secret; reference it with `secretKeyRef` or a secret volume",
    defaultLevel: "mandatory",
    kinds: new Set(["ConfigMap"]),
    config: {
        schema: {
            entropyThreshold: { type: "number", minimum: 0, description: "Shannon entropy (bits/char) above which a token counts as key material (default 3.5)." },
            minKeyLength: { type: "integer", minimum: 8, description: "Shortest token checked for key material (default 32)." },
        },
        defaults: { entropyThreshold: 3.5, minKeyLength: 32 },
    },
    check(obj, settings) {
        const fix = "move it to a Secret and reference it with secretKeyRef or a secret volume";
        return (["data", "binaryData"] as const).flatMap(field => perEntry<unknown>(() => obj[field], (key, raw) => {
            const reason = secretReason(key, typeof raw === "string" ? raw : "", field === "binaryData", settings);
            return reason ? [`${field}.${key} ${reason}: ${fix}`] : [];
        }));
    },
});

function secretReason(key: string, value: string, binary: boolean, settings: Settings): string | undefined {
    if (hasPemBlock(value)) {
        return "contains a PEM private key";
    }
    if (dsnPassword(value) !== undefined) {
        return "contains a connection string with a password";
    }
    if (isSecretLikeName(key) && !value.includes("\n") && !isPlaceholderValue(value)) {
        return "is named like a credential and holds a literal value";
    }
    const assigned = value.includes("\n") ? secretAssignmentsIn(value) : [];
    if (assigned.length > 0) {
        return `sets ${assigned.map(k => `'${k}'`).join(", ")} to a literal credential`;
    }
    if (binary && value.replace(/\s/g, "").length >= settings.minKeyLength) {
        return "holds binary data that looks like key material";
    }
    if (looksLikeKeyMaterial(value, settings.minKeyLength, settings.entropyThreshold)) {
        return "looks like key material (high entropy)";
    }
    return undefined;
}

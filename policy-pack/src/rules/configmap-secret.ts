import {
  classifyBytes,
  decodeBase64Block,
  dsnPassword,
  hasPemBlock,
  isKeyFileName,
  isPlaceholderValue,
  isSecretLikeName,
  looksLikeKeyMaterial,
  secretAssignmentsIn,
} from "../core/secrets";
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
  description:
    "ConfigMaps carry no passwords, tokens, keys, DSNs with passwords, PEM blocks or key material. " +
    "Base64 values (`binaryData`, and `data` values that are base64, wrapped or not) are decoded: recognised key formats " +
    "(git-crypt, OpenSSH, DER private keys, PKCS#12, Java keystores, OpenPGP secret keys) and binary of no known format that is " +
    "random (as keys are) or stored under a key-like name (`key`, `*.key`, `keyfile`, `*.gpg`, git-crypt...) count as key material; " +
    "images, fonts, PDFs, archives, DER certificates and text without a private key (CA bundles) do not.",
  fix: "move the value to a Secret; reference it with `secretKeyRef` or a secret volume",
  defaultLevel: "mandatory",
  kinds: new Set(["ConfigMap"]),
  config: {
    schema: {
      entropyThreshold: {
        type: "number",
        minimum: 0,
        description: "Shannon entropy (bits/char) above which a token counts as key material (default 3.5).",
      },
      minKeyLength: {
        type: "integer",
        minimum: 8,
        description: "Shortest token checked for key material (default 32).",
      },
    },
    defaults: { entropyThreshold: 3.5, minKeyLength: 32 },
  },
  check(obj, settings) {
    const fix = "move it to a Secret and reference it with secretKeyRef or a secret volume";
    return (["data", "binaryData"] as const).flatMap((field) =>
      perEntry<unknown>(
        () => obj[field],
        (key, raw) => {
          const reason = secretReason(
            key,
            typeof raw === "string" ? raw : "",
            field === "binaryData",
            settings,
          );
          return reason ? [`${field}.${key} ${reason}: ${fix}`] : [];
        },
      ),
    );
  },
});

function secretReason(key: string, value: string, binary: boolean, settings: Settings): string | undefined {
  if (hasPemBlock(value)) {
    return "contains a PEM private key";
  }
  if (dsnPassword(value) !== undefined) {
    return "contains a connection string with a password";
  }
  const decoded = base64Verdict(key, value, binary, settings);
  if (decoded.reason !== undefined || binary) {
    return decoded.reason;
  }
  if (isSecretLikeName(key) && !value.includes("\n") && !isPlaceholderValue(value)) {
    return "is named like a credential and holds a literal value";
  }
  const assigned = value.includes("\n") ? secretAssignmentsIn(value) : [];
  if (assigned.length > 0) {
    return `sets ${assigned.map((k) => `'${k}'`).join(", ")} to a literal credential`;
  }
  if (!decoded.harmless && looksLikeKeyMaterial(value, settings.minKeyLength, settings.entropyThreshold)) {
    return "looks like key material (high entropy)";
  }
  return undefined;
}

/**
 * A base64 value decoded: a reason when the bytes are key material; `harmless` when they are a public format
 * (image, font, certificate...) or text without a private key, so that their entropy is no evidence of a key.
 */
function base64Verdict(
  key: string,
  value: string,
  binary: boolean,
  settings: Settings,
): { reason?: string; harmless: boolean } {
  const bytes = decodeBase64Block(value, binary ? 4 : settings.minKeyLength);
  if (!bytes) {
    return { harmless: false };
  }
  const encoded = binary ? "binary data" : "base64-encoded binary data";
  const verdict = classifyBytes(bytes);
  switch (verdict.kind) {
    case "key":
      return { reason: `holds ${encoded} that looks like key material (${verdict.format})`, harmless: false };
    case "public":
      return { harmless: true };
    case "text":
      return textVerdict(verdict.text);
    case "binary": {
      if (!binary && looksLikeKeyMaterial(value, settings.minKeyLength, settings.entropyThreshold)) {
        return { harmless: false }; // one token: reported below as a high-entropy token
      }
      const keyLike =
        (verdict.random && value.replace(/\s/g, "").length >= settings.minKeyLength) || isKeyFileName(key);
      return keyLike
        ? { reason: `holds ${encoded} that looks like key material`, harmless: false }
        : { harmless: false };
    }
  }
}

/**
 * Base64-encoded text: a PEM private key or `user:password` (HTTP basic auth) is a credential; a document
 * (several words or lines: certificates, configuration) is harmless; a single word is judged as the token it encodes.
 */
function textVerdict(text: string): { reason?: string; harmless: boolean } {
  if (hasPemBlock(text)) {
    return { reason: "holds a base64-encoded PEM private key", harmless: false };
  }
  const userPassword = /^[^\s:]+:(\S+)$/.exec(text.trim());
  if (userPassword && !isPlaceholderValue(userPassword[1]!)) {
    return { reason: "holds base64-encoded credentials (user:password)", harmless: false };
  }
  return { harmless: /\s/.test(text.trim()) };
}

/** Detection of credentials in plain configuration: key names, DSNs with passwords, PEM blocks, key material. */

/** Names of settings that hold credentials. */
const STRONG_SECRET =
  /(^|[^a-z])(password|passwd|pass|pwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|secret[_-]?key|credentials?|client[_-]?secret|auth[_-]?token|git[_-]?crypt[_-]?key|ssh[_-]?key|id_rsa|id_ed25519|signing[_-]?key|encryption[_-]?key|master[_-]?key|requirepass|masterauth)([^a-z]|$)/i;

/** Names that mention a secret but carry no secret value (a reference, a policy, a size...). */
const BENIGN_SUFFIX =
  /(_|-|\.)(file|path|ref|name|names|key_?name|secret_?name|ttl|timeout|expiry|expires|expiration|length|len|min|max|size|policy|lifetime|duration|enabled|enable|url_?template|header|type|mode|user|username|users|encryption|endpoint|url|uri|algorithm|method|hash|format|cipher|scheme|store|provider|source|env)$/i;

/** `NEO4J_AUTH`, `BASIC_AUTH`, `REDIS_AUTH`: a name ending in "auth" holds credentials (`user/password`, a token). */
const TRAILING_AUTH = /(^|[^a-z])auth$/i;

export function isSecretLikeName(name: string): boolean {
  const normalized = name.replace(/([a-z])([A-Z])/g, "$1_$2");
  return (
    (STRONG_SECRET.test(normalized) || TRAILING_AUTH.test(normalized)) && !BENIGN_SUFFIX.test(normalized)
  );
}

/** Values that are clearly not a literal secret: empty, placeholders, references, numbers, booleans, paths. */
export function isPlaceholderValue(value: string): boolean {
  const v = value.trim();
  return (
    v === "" ||
    /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(v) ||
    /^\$\(.*\)$/.test(v) ||
    /^\{\{.*\}\}$/.test(v) ||
    /^<[^>]*>$/.test(v) ||
    /^(true|false|yes|no|on|off|null|none|changeme-in-secret)$/i.test(v) ||
    /^-?\d+(\.\d+)?[smhdkKMG]?i?[bB]?$/.test(v) ||
    /^(\/|\.\/|file:)/.test(v) ||
    /^(secretKeyRef|secret:|vault:|ref\+|sm:\/\/|awssm:)/i.test(v) ||
    // Code in an embedded script: a call or an attribute, not a literal (`token = obtain_token(self.opener)`).
    /^[A-Za-z_][\w.]*\(.*\)$/.test(v) ||
    /^(self|this|os\.environ|env)\.[\w.]+$/.test(v)
  );
}

/** `scheme://user:password@host`, also with a URL-encoded password (`%40`). */
const DSN_WITH_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:([^\s/@]+)@[^\s]+/i;

export function dsnPassword(value: string): string | undefined {
  const match = DSN_WITH_PASSWORD.exec(value);
  if (!match) {
    return undefined;
  }
  const password = decodeSafely(match[1]!);
  return isPlaceholderValue(password) ? undefined : password;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function hasPemBlock(value: string): boolean {
  return (
    /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY|[A-Z0-9 ]*KEY BLOCK|OPENSSH PRIVATE KEY|ENCRYPTED PRIVATE KEY|CERTIFICATE REQUEST)-----/.test(
      value,
    ) || /-----BEGIN (RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY/.test(value)
  );
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  if (text.length === 0) {
    return 0;
  }
  const counts = new Map<string, number>();
  for (const ch of text) {
    counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/**
 * A single token that looks like key material: long, of key-like characters, mixing letters and digits,
 * and random enough. Digests (`sha256:...`) and URLs are not keys.
 */
export function looksLikeKeyMaterial(value: string, minLength: number, minEntropy: number): boolean {
  const v = value.trim();
  if (v.length < minLength || !/^[A-Za-z0-9+/=_\-.]+$/.test(v)) {
    return false;
  }
  if (/^(sha256|sha512|sha1|md5)[:=-]/i.test(v) || /^[a-z]+(\.[a-z]+)+$/i.test(v)) {
    return false;
  }
  if (!/[0-9]/.test(v) || !/[A-Za-z]/.test(v)) {
    return false;
  }
  return shannonEntropy(v) >= minEntropy;
}

/** `key: value` / `key = value` / `key value` lines of an embedded config file whose key looks secret. */
export function secretAssignmentsIn(text: string): string[] {
  const keys: string[] = [];
  for (const line of text.split("\n")) {
    const match =
      /^\s*(?:export\s+)?["']?([A-Za-z0-9_.-]+)["']?\s*(?::|=)\s*["']?([^"'#\s][^"'#]*?)["']?\s*,?\s*(?:#.*)?$/.exec(
        line,
      );
    const redis = /^\s*(requirepass|masterauth)\s+["']?([^"'\s]+)/.exec(line);
    // JSON lines may end in a comma: `"passwordReset": false,` assigns a boolean, not a credential.
    if (match && isSecretLikeName(match[1]!) && !isPlaceholderValue(match[2]!)) {
      keys.push(match[1]!);
    } else if (redis && !isPlaceholderValue(redis[2]!)) {
      keys.push(redis[1]!);
    }
  }
  return keys;
}

/**
 * Literal credentials on a command line: `--static-auth-secret=abc`, `--password abc`, or a DSN with a password
 * as an argument. `$(VAR)` references, file paths and placeholders are fine.
 */
export function literalSecretArgs(words: readonly string[]): Array<{ arg: string; reason: string }> {
  const found: Array<{ arg: string; reason: string }> = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const flag = /^--?([A-Za-z][A-Za-z0-9_.-]*)(?:=(.*))?$/.exec(word);
    if (flag) {
      const next = words[i + 1];
      const value = stripQuotes(flag[2] ?? (next !== undefined && !next.startsWith("-") ? next : ""));
      if (
        value !== "" &&
        isSecretLikeName(flag[1]!) &&
        !isPlaceholderValue(value) &&
        dsnPassword(value) === undefined
      ) {
        found.push({ arg: `--${flag[1]}`, reason: "a literal credential" });
        continue;
      }
    }
    if (dsnPassword(stripQuotes(word.replace(/^--?[A-Za-z][A-Za-z0-9_.-]*=/, ""))) !== undefined) {
      found.push({
        arg: flag ? `--${flag[1]}` : "an argument",
        reason: "a connection string with a password",
      });
    }
  }
  return found;
}

function stripQuotes(value: string): string {
  return value.trim().replace(/^['"]|['"]$/g, "");
}

/** What a run of bytes is, judged from its leading bytes (magic numbers) and its content. */
export type BytesVerdict =
  | { kind: "key"; format: string }
  | { kind: "public"; format: string }
  | { kind: "text"; text: string }
  | { kind: "binary"; random: boolean };

/** The bytes of a base64 value (wrapped over lines or not); undefined when it is not base64. */
export function decodeBase64Block(value: string, minChars = 16): Buffer | undefined {
  const compact = value.replace(/\s+/g, "");
  if (compact.length < minChars || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    return undefined;
  }
  return Buffer.from(compact, "base64");
}

const KEY_MAGIC: Array<[prefix: number[], format: string]> = [
  [[0x00, ...ascii("GITCRYPTKEY")], "a git-crypt key"],
  [ascii("openssh-key-v1\0"), "an OpenSSH private key"],
  [[0xfe, 0xed, 0xfe, 0xed], "a Java keystore"],
  [[0xce, 0xce, 0xce, 0xce], "a JCEKS keystore"],
];

/** Formats that carry no secret: images, fonts, documents, archives, WebAssembly. */
const PUBLIC_MAGIC: Array<[prefix: number[], format: string, offset?: number]> = [
  [[0x89, ...ascii("PNG")], "a PNG image"],
  [[0xff, 0xd8, 0xff], "a JPEG image"],
  [ascii("GIF8"), "a GIF image"],
  [ascii("WEBP"), "a WebP image", 8],
  [[0x00, 0x00, 0x01, 0x00], "an icon"],
  [ascii("wOFF"), "a WOFF font"],
  [ascii("wOF2"), "a WOFF2 font"],
  [[0x00, 0x01, 0x00, 0x00], "a TrueType font"],
  [ascii("OTTO"), "an OpenType font"],
  [ascii("%PDF"), "a PDF document"],
  [[0x1f, 0x8b], "a gzip archive"],
  [ascii("PK\x03\x04"), "a zip archive"],
  [[0x28, 0xb5, 0x2f, 0xfd], "a zstd archive"],
  [[0xfd, ...ascii("7zXZ")], "an xz archive"],
  [ascii("BZh"), "a bzip2 archive"],
  [ascii("ustar"), "a tar archive", 257],
  [[0x00, ...ascii("asm")], "a WebAssembly module"],
];

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

function startsWith(bytes: Buffer, prefix: number[], offset = 0): boolean {
  return bytes.length >= offset + prefix.length && prefix.every((b, i) => bytes[offset + i] === b);
}

/**
 * A DER SEQUENCE is a private key or a PKCS#12 keystore when its first element is INTEGER 0 or 3 (PKCS#1,
 * PKCS#8, SEC1 and PFX versions), and a certificate (public) when it starts with another SEQUENCE.
 */
function derVerdict(bytes: Buffer): BytesVerdict | undefined {
  if (bytes[0] !== 0x30 || bytes.length < 8) {
    return undefined;
  }
  const lengthBytes = bytes[1]! < 0x80 ? 0 : bytes[1]! - 0x80;
  if (lengthBytes > 3) {
    return undefined;
  }
  const body = 2 + lengthBytes;
  if (
    bytes[body] === 0x02 &&
    bytes[body + 1] === 0x01 &&
    (bytes[body + 2] === 0x00 || bytes[body + 2] === 0x01)
  ) {
    return { kind: "key", format: "a DER private key" };
  }
  if (bytes[body] === 0x02 && bytes[body + 1] === 0x01 && bytes[body + 2] === 0x03) {
    return { kind: "key", format: "a PKCS#12 keystore" };
  }
  if (bytes[body] === 0x30) {
    return { kind: "public", format: "a DER certificate" };
  }
  return undefined;
}

/** Text when the bytes are UTF-8 without control characters other than tab, CR and LF. */
function asText(bytes: Buffer): string | undefined {
  const text = bytes.toString("utf8");
  // eslint-disable-next-line no-control-regex -- control characters are exactly what marks binary data
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/.test(text) ? undefined : text;
}

/** Byte entropy close to the most n bytes can have: random, as keys are (compressed formats are recognised first). */
function looksRandom(bytes: Buffer): boolean {
  if (bytes.length < 16) {
    return false;
  }
  const counts = new Array<number>(256).fill(0);
  for (const b of bytes) {
    counts[b]!++;
  }
  let entropy = 0;
  for (const count of counts) {
    if (count > 0) {
      const p = count / bytes.length;
      entropy -= p * Math.log2(p);
    }
  }
  return entropy >= Math.min(7.2, 0.85 * Math.log2(bytes.length));
}

export function classifyBytes(bytes: Buffer): BytesVerdict {
  const key = KEY_MAGIC.find(([prefix]) => startsWith(bytes, prefix));
  if (key) {
    return { kind: "key", format: key[1] };
  }
  const publicFormat = PUBLIC_MAGIC.find(([prefix, , offset]) => startsWith(bytes, prefix, offset));
  if (publicFormat) {
    return { kind: "public", format: publicFormat[1] };
  }
  const der = derVerdict(bytes);
  if (der) {
    return der;
  }
  // OpenPGP secret-key packet (tag 5), old or new packet format: an exported `gpg --export-secret-keys`.
  if ((bytes[0]! & 0xfc) === 0x94 || bytes[0] === 0xc5) {
    return { kind: "key", format: "an OpenPGP secret key" };
  }
  const text = asText(bytes);
  return text !== undefined ? { kind: "text", text } : { kind: "binary", random: looksRandom(bytes) };
}

/** Names of files or entries that hold keys: `key`, `*.key`, `keyfile`, `keyring`, `*.gpg`, `*.p12`, git-crypt... */
export function isKeyFileName(name: string): boolean {
  return (
    /(^|[._-])(key|keys|keyfile|keyring|keystore|gpg|pgp|asc|p12|pfx|jks)$/i.test(name) ||
    /git[_-]?crypt/i.test(name) ||
    isSecretLikeName(name)
  );
}

/** Detection of credentials in plain configuration: key names, DSNs with passwords, PEM blocks, key material. */

/** Names of settings that hold credentials. */
const STRONG_SECRET = /(^|[^a-z])(password|passwd|pass|pwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|secret[_-]?key|credentials?|client[_-]?secret|auth[_-]?token|git[_-]?crypt[_-]?key|ssh[_-]?key|id_rsa|id_ed25519|signing[_-]?key|encryption[_-]?key|master[_-]?key|requirepass|masterauth)([^a-z]|$)/i;

/** Names that mention a secret but carry no secret value (a reference, a policy, a size...). */
const BENIGN_SUFFIX = /(_|-|\.)(file|path|ref|name|names|key_?name|secret_?name|ttl|timeout|expiry|expires|expiration|length|len|min|max|size|policy|lifetime|duration|enabled|enable|url_?template|header|type|mode|user|username|users|encryption|endpoint|url|uri|algorithm|method|hash|format|cipher|scheme|store|provider|source|env)$/i;

/** `NEO4J_AUTH`, `BASIC_AUTH`, `REDIS_AUTH`: a name ending in "auth" holds credentials (`user/password`, a token). */
const TRAILING_AUTH = /(^|[^a-z])auth$/i;

export function isSecretLikeName(name: string): boolean {
    const normalized = name.replace(/([a-z])([A-Z])/g, "$1_$2");
    return (STRONG_SECRET.test(normalized) || TRAILING_AUTH.test(normalized)) && !BENIGN_SUFFIX.test(normalized);
}

/** Values that are clearly not a literal secret: empty, placeholders, references, numbers, booleans, paths. */
export function isPlaceholderValue(value: string): boolean {
    const v = value.trim();
    return v === ""
        || /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(v)
        || /^\$\(.*\)$/.test(v)
        || /^\{\{.*\}\}$/.test(v)
        || /^<[^>]*>$/.test(v)
        || /^(true|false|yes|no|on|off|null|none|changeme-in-secret)$/i.test(v)
        || /^-?\d+(\.\d+)?[smhdkKMG]?i?[bB]?$/.test(v)
        || /^(\/|\.\/|file:)/.test(v)
        || /^(secretKeyRef|secret:|vault:|ref\+|sm:\/\/|awssm:)/i.test(v)
        // Code in an embedded script: a call or an attribute, not a literal (`token = obtain_token(self.opener)`).
        || /^[A-Za-z_][\w.]*\(.*\)$/.test(v)
        || /^(self|this|os\.environ|env)\.[\w.]+$/.test(v);
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
    return /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY|[A-Z0-9 ]*KEY BLOCK|OPENSSH PRIVATE KEY|ENCRYPTED PRIVATE KEY|CERTIFICATE REQUEST)-----/.test(value)
        || /-----BEGIN (RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY/.test(value);
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
        const match = /^\s*(?:export\s+)?["']?([A-Za-z0-9_.\-]+)["']?\s*(?::|=)\s*["']?([^"'#\s][^"'#]*?)["']?\s*,?\s*(?:#.*)?$/.exec(line);
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
            if (value !== "" && isSecretLikeName(flag[1]!) && !isPlaceholderValue(value) && dsnPassword(value) === undefined) {
                found.push({ arg: `--${flag[1]}`, reason: "a literal credential" });
                continue;
            }
        }
        if (dsnPassword(stripQuotes(word.replace(/^--?[A-Za-z][A-Za-z0-9_.-]*=/, ""))) !== undefined) {
            found.push({ arg: flag ? `--${flag[1]}` : "an argument", reason: "a connection string with a password" });
        }
    }
    return found;
}

function stripQuotes(value: string): string {
    return value.trim().replace(/^['"]|['"]$/g, "");
}

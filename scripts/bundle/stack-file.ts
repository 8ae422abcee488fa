// The stack's config file (Pulumi.<stack>.yaml) as the bundle builder reads and writes it.
import * as fs from "fs";
import { parseDocument } from "yaml";
import { StackConfig, parseStackConfig, rawFromAllConfig } from "../../program/config";

/** Bad input or a failed step: reported as one message, without a stack trace. */
export class BundleError extends Error {}

export interface StackFile {
  text: string;
  config: Record<string, unknown>;
  salt?: string;
  /** Whether it holds `secure:` values (encrypted with its salt's key). */
  hasSecureValues: boolean;
}

export function readStackFile(file: string): StackFile {
  if (!fs.existsSync(file)) throw new BundleError(`stack config ${file} not found`);
  const text = fs.readFileSync(file, "utf8");
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new BundleError(`${file}: ${doc.errors[0].message}`);
  const js = (doc.toJS() ?? {}) as { config?: Record<string, unknown>; encryptionsalt?: string };
  const config = js.config ?? {};
  const hasSecureValues = Object.values(config).some(
    (v) => typeof v === "object" && v !== null && "secure" in (v as object),
  );
  return { text, config, salt: js.encryptionsalt, hasSecureValues };
}

/** The program's view of the stack config (values as strings, as `pulumi.runtime.allConfig()` hands them). */
export function stackConfigOf(file: string, sf: StackFile): StackConfig {
  const asPulumiSeesIt = Object.fromEntries(
    Object.entries(sf.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  try {
    return parseStackConfig(rawFromAllConfig(asPulumiSeesIt));
  } catch (e) {
    throw new BundleError(`${file}: ${(e as Error).message}`);
  }
}

/**
 * The stack file's text to bundle with a state whose passphrase salt is `stateSalt`: the state's salt when
 * the file has none, or a different one but no secure value encrypted with it (one salt for config and state).
 */
export function stackTextFor(sf: StackFile, stateSalt?: string): { text: string; note?: string } {
  const text = sf.text.replace(/\s+$/, "") + "\n";
  if (!stateSalt || stateSalt === sf.salt) return { text };
  if (sf.salt && sf.hasSecureValues) {
    return {
      text,
      note: "WARNING: the stack file's encryptionsalt differs from the state's; keeping the file's (its secure values need it)",
    };
  }
  const doc = parseDocument(text);
  doc.set("encryptionsalt", stateSalt);
  return { text: doc.toString(), note: "encryptionsalt taken from the state (the site's secrets provider)" };
}

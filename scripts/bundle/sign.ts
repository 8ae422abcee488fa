// Signing a bundle: an ed25519 signature of its SHA256SUMS (which lists every other file, the images' blobs
// included), made with the builder's private key; the site checks it with its own openssl against the public
// key it already holds (deploy.sh --public-key), before anything from the bundle runs.
import { KeyObject, createHash, createPrivateKey, createPublicKey, sign } from "crypto";
import * as fs from "fs";
import { BundleError } from "./stack-file";

/** Reads an ed25519 private key (PEM; KEEL_BUNDLE_KEY_PASSPHRASE when it is encrypted). */
export function loadSigningKey(file: string, passphrase?: string): KeyObject {
  if (!fs.existsSync(file)) throw new BundleError(`--sign-key: ${file} not found`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: fs.readFileSync(file), passphrase });
  } catch (e) {
    throw new BundleError(`--sign-key: ${file} is not a readable private key (${(e as Error).message})`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new BundleError(
      `--sign-key: ${file} is a ${key.asymmetricKeyType} key; an ed25519 key is needed ` +
        "(openssl genpkey -algorithm ed25519 -out keel-bundle.key)",
    );
  }
  return key;
}

/** sha256 of the public key's DER (SubjectPublicKeyInfo): `openssl pkey -pubin -outform DER | sha256sum`. */
export function publicKeyFingerprint(key: KeyObject): string {
  const der = createPublicKey(key).export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("hex");
}

/** The raw 64-byte ed25519 signature (what `openssl pkeyutl -verify -rawin -sigfile` reads). */
export function signText(key: KeyObject, text: string): Buffer {
  return sign(null, Buffer.from(text, "utf8"), key);
}

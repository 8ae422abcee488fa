const secretName =
  /(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth[_-]?key|access[_-]?key)/i;
const dsnWithPassword = /[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]+@/i;
// Private keys only: a certificate (e.g. the stack's CA, handed to clients and probes) is public.
const pem = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/**
 * Says why a literal value must not sit in a ConfigMap or a plain env var, or returns undefined.
 * Names that merely mention a secret's location (e.g. `PASSWORD_FILE`, `TOKEN_PATH`, `PASSWORD_ENV`: the variable holding it) are allowed.
 */
export function secretReason(name: string, value: string): string | undefined {
  if (dsnWithPassword.test(value)) return "it is a connection string with a password";
  if (pem.test(value)) return "it holds a PEM private key";
  if (
    secretName.test(name) &&
    !/(_FILE|_PATH|_DIR|_SECRET_NAME|_URL_FILE|_ENV)$/i.test(name) &&
    value.length > 0
  ) {
    return "its name says it is a credential";
  }
  return undefined;
}

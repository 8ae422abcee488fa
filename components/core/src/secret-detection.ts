const secretName =
  /(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth[_-]?key|access[_-]?key)/i;
const dsnWithPassword = /[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]+@/i;
const pem = /-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE|KEY)-----/;

/**
 * Says why a literal value must not sit in a ConfigMap or a plain env var, or returns undefined.
 * Names that merely mention a secret's location (e.g. `PASSWORD_FILE`, `TOKEN_PATH`) are allowed.
 */
export function secretReason(name: string, value: string): string | undefined {
  if (dsnWithPassword.test(value)) return "it is a connection string with a password";
  if (pem.test(value)) return "it holds PEM key or certificate material";
  if (
    secretName.test(name) &&
    !/(_FILE|_PATH|_DIR|_SECRET_NAME|_URL_FILE)$/i.test(name) &&
    value.length > 0
  ) {
    return "its name says it is a credential";
  }
  return undefined;
}

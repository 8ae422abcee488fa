import { POD_WORKLOAD_KINDS, asString, describeContainer, perContainer, podSpecOf } from "../core/k8s";
import { commandWords } from "../core/app-settings";
import {
  dsnPassword,
  hasPemBlock,
  isPlaceholderValue,
  isSecretLikeName,
  literalSecretArgs,
} from "../core/secrets";
import { NO_CONFIG, resourceRule } from "../core/rule";
import { perElement } from "../core/unknown";

/** F5: credentials never sit as literal env values in pod specs (they end up in git and in `kubectl get -o yaml`). */
export const envLiteralSecret = resourceRule({
  id: "env-literal-secret",
  findings: ["F5"],
  description:
    "Container env values and command-line arguments are not literal credentials (secret-like names, DSNs with passwords, PEM blocks).",
  fix: "`valueFrom.secretKeyRef` instead of `value`; `$(VAR)` from such an env var in arguments",
  defaultLevel: "mandatory",
  kinds: POD_WORKLOAD_KINDS,
  config: NO_CONFIG,
  check(obj) {
    return perContainer(podSpecOf(obj), (container, init) => [
      ...perElement<{ name?: string; value?: unknown } | undefined>(
        () => container.env,
        (env) => {
          const name = asString(env?.name) ?? "";
          const value = asString(env?.value);
          if (value === undefined) {
            return [];
          }
          let reason: string | undefined;
          if (hasPemBlock(value)) {
            reason = "holds a PEM private key";
          } else if (dsnPassword(value) !== undefined) {
            reason = "holds a connection string with a password";
          } else if (isSecretLikeName(name) && !isPlaceholderValue(value)) {
            reason = "holds a literal credential";
          }
          return reason
            ? [
                `env '${name}' of ${describeContainer(container, init)} ${reason}: use valueFrom.secretKeyRef instead of value`,
              ]
            : [];
        },
      ),
      ...literalSecretArgs(commandWords(container)).map(
        ({ arg, reason }) =>
          `the command line of ${describeContainer(container, init)} passes ${reason} in ${arg}: put it in a Secret, expose it with env valueFrom.secretKeyRef and write $(VAR) in the argument`,
      ),
    ]);
  },
});
